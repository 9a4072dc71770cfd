-- The open-runs quota is checked on every start, inside the start's own read. Counted
-- under Row Level Security, each of the user's open rows would run the policy's
-- ownership check; counted here (SECURITY DEFINER, for auth.uid() only) it is one scan of
-- idx_executions_open_by_user, stopping at p_up_to.
CREATE OR REPLACE FUNCTION public.open_run_count(p_up_to INTEGER)
RETURNS INTEGER
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT count(*)::integer FROM (
    SELECT 1 FROM public.workflow_executions
    WHERE created_by = auth.uid() AND status IN ('pending', 'running')
    LIMIT p_up_to
  ) AS open_runs
$$;

REVOKE EXECUTE ON FUNCTION public.open_run_count(INTEGER) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.open_run_count(INTEGER) FROM anon;
GRANT EXECUTE ON FUNCTION public.open_run_count(INTEGER) TO authenticated, service_role;
