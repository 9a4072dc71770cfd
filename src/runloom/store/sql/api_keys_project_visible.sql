SELECT 1 FROM public.projects WHERE id = %(id)s
