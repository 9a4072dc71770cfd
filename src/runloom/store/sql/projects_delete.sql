DELETE FROM public.projects WHERE id = %(id)s RETURNING id
