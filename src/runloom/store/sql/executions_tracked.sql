SELECT id, temporal_workflow_id, temporal_run_id, stats_recorded_at, temporal_namespace
FROM public.workflow_executions
WHERE id = %(id)s
