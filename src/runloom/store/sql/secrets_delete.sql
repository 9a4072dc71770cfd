DELETE FROM public.project_secrets
WHERE project_id = %(project_id)s AND name = %(name)s
RETURNING id
