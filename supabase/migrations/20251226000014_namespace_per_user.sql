-- A Temporal namespace per tenant, as an option (RUNLOOM_NAMESPACE_MODE=per_user).
--
-- A project's namespace is decided once, when the project is created, and stored on it;
-- each run copies its project's. NULL means the installation's shared namespace
-- (TEMPORAL_NAMESPACE), which is what every project created before this migration, and
-- every project created in shared mode, uses. Every component reads the namespace with
-- the project or the run instead of recomputing it, so changing the mode later moves no
-- project and loses no run.
--
-- The decision is made here, by triggers, not by whoever inserts the row: a user may write
-- their own projects (on Supabase, through PostgREST), and a namespace of their choice
-- would put their worker in another tenant's namespace. The API publishes its settings
-- into the installation's row (runloom.services.namespaces.publish_policy) on start.

ALTER TABLE public.runloom_installation
  ADD COLUMN IF NOT EXISTS namespace_mode TEXT NOT NULL DEFAULT 'shared'
    CHECK (namespace_mode IN ('shared', 'per_user')),
  ADD COLUMN IF NOT EXISTS namespace_prefix TEXT NOT NULL DEFAULT 'runloom-',
  -- user id or lower-case email → namespace (RUNLOOM_NAMESPACE_MAP)
  ADD COLUMN IF NOT EXISTS namespace_map JSONB NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN IF NOT EXISTS namespace_create BOOLEAN NOT NULL DEFAULT TRUE;
GRANT UPDATE (namespace_mode, namespace_prefix, namespace_map, namespace_create)
  ON public.runloom_installation TO service_role;

ALTER TABLE public.projects ADD COLUMN IF NOT EXISTS temporal_namespace VARCHAR(255);
ALTER TABLE public.workflow_executions ADD COLUMN IF NOT EXISTS temporal_namespace VARCHAR(255);

-- On insert: the namespace the installation's policy gives the project's owner (a mapped
-- one, else the prefix and the user id when runloom may create namespaces; refused when
-- neither); whatever the inserter wrote is ignored. On update: it never changes.
CREATE OR REPLACE FUNCTION public.assign_project_namespace()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_policy public.runloom_installation;
  v_email TEXT;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.temporal_namespace := OLD.temporal_namespace;
    RETURN NEW;
  END IF;
  SELECT * INTO v_policy FROM public.runloom_installation LIMIT 1;
  IF v_policy.namespace_mode IS DISTINCT FROM 'per_user' THEN
    NEW.temporal_namespace := NULL;
    RETURN NEW;
  END IF;
  SELECT lower(u.email) INTO v_email FROM public.users AS u WHERE u.id = NEW.created_by;
  NEW.temporal_namespace := COALESCE(
    v_policy.namespace_map ->> NEW.created_by::text,
    v_policy.namespace_map ->> v_email,
    CASE WHEN v_policy.namespace_create
         THEN v_policy.namespace_prefix || NEW.created_by::text END
  );
  IF NEW.temporal_namespace IS NULL THEN
    RAISE EXCEPTION 'user % (%) has no Temporal namespace: RUNLOOM_NAMESPACE_MAP has no entry for them and RUNLOOM_NAMESPACE_CREATE=0',
      NEW.created_by, coalesce(v_email, 'no email')
      USING ERRCODE = '22023',
            HINT = 'ask the operator to map this user to a namespace in RUNLOOM_NAMESPACE_MAP';
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS projects_namespace ON public.projects;
CREATE TRIGGER projects_namespace
  BEFORE INSERT OR UPDATE OF temporal_namespace ON public.projects
  FOR EACH ROW EXECUTE FUNCTION public.assign_project_namespace();

-- A run lives in its project's namespace: copied on insert, never changed after.
CREATE OR REPLACE FUNCTION public.assign_execution_namespace()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.temporal_namespace := OLD.temporal_namespace;
  ELSE
    NEW.temporal_namespace := (
      SELECT p.temporal_namespace FROM public.projects AS p WHERE p.id = NEW.project_id
    );
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS executions_namespace ON public.workflow_executions;
CREATE TRIGGER executions_namespace
  BEFORE INSERT OR UPDATE OF temporal_namespace ON public.workflow_executions
  FOR EACH ROW EXECUTE FUNCTION public.assign_execution_namespace();

REVOKE EXECUTE ON FUNCTION public.assign_project_namespace() FROM PUBLIC, anon;
REVOKE EXECUTE ON FUNCTION public.assign_execution_namespace() FROM PUBLIC, anon;
