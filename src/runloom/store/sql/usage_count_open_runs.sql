-- The user's runs that have not ended, counted no further than %(up_to)s
-- (idx_executions_open_by_user keeps this to the open rows of this user).
SELECT count(*) AS n FROM (
  SELECT 1 FROM public.workflow_executions
  WHERE created_by = %(user_id)s AND status IN ('pending', 'running')
  LIMIT %(up_to)s
) AS open_runs
