SELECT key FROM public.workflows WHERE project_id = %(project_id)s AND key LIKE %(prefix)s
