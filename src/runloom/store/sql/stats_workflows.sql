SELECT w.id AS workflow_id, w.name, w.key,
       coalesce(sum(c.execution_count), 0)::bigint AS execution_count,
       coalesce(sum(c.error_count), 0)::bigint AS error_count,
       CASE WHEN coalesce(sum(c.execution_count), 0) = 0 THEN 0
            ELSE round(sum(c.total_execution_duration_ms)::numeric / sum(c.execution_count))::int
       END AS avg_execution_duration_ms,
       max(c.last_executed_at) AS last_executed_at
FROM public.workflows AS w
LEFT JOIN public.workflow_compiled_code AS c ON c.workflow_id = w.id
WHERE w.project_id = %(project_id)s
GROUP BY w.id
ORDER BY execution_count DESC, w.name
