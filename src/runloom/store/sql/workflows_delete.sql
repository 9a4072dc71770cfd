DELETE FROM public.workflows WHERE id = %(id)s RETURNING id
