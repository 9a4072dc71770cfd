-- The active code of every workflow of the project, plus every older version that runs
-- still depend on: a run must finish on the code it started with.
SELECT c.id, c.workflow_id, w.key AS workflow_key, c.version, c.is_active,
       c.workflow_code, c.activities_code
FROM public.workflow_compiled_code AS c
JOIN public.workflows AS w ON w.id = c.workflow_id
WHERE w.project_id = %(project_id)s
  AND (
    c.is_active
    OR EXISTS (
      SELECT 1 FROM public.workflow_executions AS e
      WHERE e.workflow_id = c.workflow_id
        AND e.code_version = c.version
        AND e.status IN ('pending', 'running')
    )
    OR (w.key || '@v' || c.version) = ANY(%(extra_types)s::text[])
  )
ORDER BY w.key, c.version
