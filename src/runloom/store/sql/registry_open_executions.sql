SELECT count(*) AS open FROM public.workflow_executions
WHERE project_id = %(project_id)s AND status IN ('pending', 'running')
