-- Only the ids: the tracker reads each run when it follows it.
SELECT id FROM public.workflow_executions
WHERE status IN ('pending', 'running')
ORDER BY created_at
