-- Whether a live manager's worker already serves the project (a row whose heartbeat is
-- not stale), and otherwise whose turn it is to start one (taken, if it is the caller's).
WITH served AS (
  SELECT EXISTS (
    SELECT 1 FROM public.workflow_workers AS w
    WHERE w.project_id = %(project_id)s
      AND w.status IN ('starting', 'running')
      AND coalesce(w.last_heartbeat, w.created_at) >= NOW() - make_interval(secs => %(stale_s)s)
  ) AS served
)
SELECT
  served.served,
  CASE WHEN served.served THEN NULL
       ELSE public.take_worker_turn(%(project_id)s, %(manager_id)s, %(stale_s)s)
  END AS pick
FROM served
