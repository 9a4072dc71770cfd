-- A run recorded under this Temporal workflow id that has not ended (a retry of it).
SELECT id FROM public.workflow_executions
WHERE temporal_workflow_id = %(temporal_workflow_id)s AND status IN ('pending', 'running')
LIMIT 1
