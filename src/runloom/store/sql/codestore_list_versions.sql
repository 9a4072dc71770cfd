-- Every version with its figures and code, in one round trip (the versions page diffs code).
SELECT c.id, c.version, c.is_active, c.compiled_at, c.compiled_by,
       coalesce(c.execution_count, 0) AS execution_count,
       coalesce(c.error_count, 0) AS error_count,
       coalesce(c.avg_execution_duration_ms, 0) AS avg_execution_duration_ms,
       c.last_executed_at,
       (SELECT count(*) FROM public.workflow_executions AS e
        WHERE e.workflow_id = c.workflow_id AND e.code_version = c.version
          AND e.status IN ('pending', 'running')) AS open_executions,
       c.workflow_code, c.activities_code, c.worker_code, c.requirements_txt,
       c.compiler_options_json
FROM public.workflow_compiled_code AS c
WHERE c.workflow_id = %(workflow_id)s
ORDER BY CASE WHEN c.version ~ '^[0-9]{1,9}$' THEN c.version::integer END DESC NULLS LAST,
         c.compiled_at DESC
