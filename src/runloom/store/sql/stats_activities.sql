SELECT activity_name, execution_count, success_count, failure_count, avg_duration_ms,
       p95_duration_ms, p99_duration_ms, last_executed_at, requires_dedicated_worker
FROM public.activity_statistics
WHERE project_id = %(project_id)s
ORDER BY execution_count DESC, activity_name
