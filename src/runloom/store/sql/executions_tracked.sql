-- A retry is a Temporal reset, and a reset run keeps the memo of the run it was reset
-- from: the memo of every run in a chain of retries names the chain's first execution.
WITH RECURSIVE chain AS (
  SELECT id, retry_of, 0 AS depth FROM public.workflow_executions WHERE id = %(id)s
  UNION ALL
  SELECT e.id, e.retry_of, c.depth + 1
  FROM public.workflow_executions AS e
  JOIN chain AS c ON e.id = c.retry_of
)
SELECT x.id, x.temporal_workflow_id, x.temporal_run_id, x.stats_recorded_at,
       (SELECT c.id FROM chain AS c ORDER BY c.depth DESC LIMIT 1) AS memo_execution_id
FROM public.workflow_executions AS x
WHERE x.id = %(id)s
