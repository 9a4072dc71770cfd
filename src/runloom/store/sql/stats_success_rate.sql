SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status NOT IN ('pending', 'running')) AS finished
FROM public.workflow_executions
WHERE project_id = %(project_id)s
