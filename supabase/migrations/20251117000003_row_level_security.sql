-- Row Level Security: a user reads and writes only their own projects and what belongs to
-- them; the worker registry and statistics are readable by the project's owner and written
-- only by the service role (which bypasses RLS). `(SELECT auth.uid())` is evaluated once
-- per statement instead of once per row.

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authenticated, service_role;
REVOKE INSERT, UPDATE, DELETE ON public.workflow_workers, public.activity_statistics FROM authenticated;
REVOKE ALL ON public.user_credentials FROM authenticated, anon;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM anon;

-- Statistics functions are for the platform, not for users (who could inflate counters).
REVOKE EXECUTE ON FUNCTION public.increment_project_stats(UUID, INTEGER) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.increment_code_stats(UUID, INTEGER, BOOLEAN) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.increment_code_stats(UUID, INTEGER, BOOLEAN, VARCHAR) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.record_activity_execution(UUID, VARCHAR, INTEGER, BOOLEAN, TIMESTAMPTZ) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.increment_project_stats(UUID, INTEGER) TO service_role;
GRANT EXECUTE ON FUNCTION public.increment_code_stats(UUID, INTEGER, BOOLEAN) TO service_role;
GRANT EXECUTE ON FUNCTION public.increment_code_stats(UUID, INTEGER, BOOLEAN, VARCHAR) TO service_role;
GRANT EXECUTE ON FUNCTION public.record_activity_execution(UUID, VARCHAR, INTEGER, BOOLEAN, TIMESTAMPTZ) TO service_role;

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workflow_compiled_code ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workflow_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workflow_workers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.activity_statistics ENABLE ROW LEVEL SECURITY;

-- Whether the caller owns a project; SECURITY DEFINER so that policies on child tables do
-- not recurse through the projects policy, STABLE so it is cached within a statement.
CREATE OR REPLACE FUNCTION public.owns_project(p_project_id UUID)
RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.projects
    WHERE id = p_project_id AND created_by = (SELECT auth.uid())
  );
$$;

CREATE OR REPLACE FUNCTION public.owns_workflow(p_workflow_id UUID)
RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.workflows AS w
    JOIN public.projects AS p ON p.id = w.project_id
    WHERE w.id = p_workflow_id AND p.created_by = (SELECT auth.uid())
  );
$$;

REVOKE EXECUTE ON FUNCTION public.owns_project(UUID) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.owns_workflow(UUID) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.owns_project(UUID) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.owns_workflow(UUID) TO authenticated, service_role;

CREATE POLICY users_select_own ON public.users
  FOR SELECT TO authenticated USING (id = (SELECT auth.uid()));
CREATE POLICY users_insert_own ON public.users
  FOR INSERT TO authenticated WITH CHECK (id = (SELECT auth.uid()));
CREATE POLICY users_update_own ON public.users
  FOR UPDATE TO authenticated
  USING (id = (SELECT auth.uid())) WITH CHECK (id = (SELECT auth.uid()));

CREATE POLICY projects_owner ON public.projects
  FOR ALL TO authenticated
  USING (created_by = (SELECT auth.uid()))
  WITH CHECK (created_by = (SELECT auth.uid()));

CREATE POLICY workflows_owner ON public.workflows
  FOR ALL TO authenticated
  USING (public.owns_project(project_id))
  WITH CHECK (public.owns_project(project_id) AND created_by = (SELECT auth.uid()));

CREATE POLICY compiled_code_owner ON public.workflow_compiled_code
  FOR ALL TO authenticated
  USING (public.owns_workflow(workflow_id))
  WITH CHECK (public.owns_workflow(workflow_id));

CREATE POLICY executions_owner ON public.workflow_executions
  FOR ALL TO authenticated
  USING (public.owns_workflow(workflow_id))
  WITH CHECK (
    public.owns_workflow(workflow_id)
    AND (project_id IS NULL OR public.owns_project(project_id))
  );

CREATE POLICY workers_owner_reads ON public.workflow_workers
  FOR SELECT TO authenticated USING (public.owns_project(project_id));

CREATE POLICY activity_statistics_owner_reads ON public.activity_statistics
  FOR SELECT TO authenticated USING (public.owns_project(project_id));
