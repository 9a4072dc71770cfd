SELECT 1 FROM public.projects WHERE id = %(project_id)s
