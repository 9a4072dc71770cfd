SELECT * FROM public.workflow_executions
WHERE status IN ('pending', 'running')
ORDER BY created_at
