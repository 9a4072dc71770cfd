SELECT * FROM public.workflow_executions WHERE id = %(id)s
