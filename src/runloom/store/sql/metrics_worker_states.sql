-- Each project's current worker (its latest registry row), by what it is doing: a failed
-- row is a crash, a row stopped for being idle is an idle project.
SELECT state, count(*)::bigint AS count
FROM (
  SELECT CASE
           WHEN w.status = 'failed' THEN 'crashed'
           WHEN w.status = 'stopped' AND w.metadata ->> 'reason' = 'idle' THEN 'idle'
           ELSE w.status
         END AS state
  FROM public.projects AS p
  CROSS JOIN LATERAL (
    SELECT status, metadata FROM public.workflow_workers
    WHERE project_id = p.id
    ORDER BY created_at DESC
    LIMIT 1
  ) AS w
) AS current
GROUP BY state
