-- API keys for programs and CI. A key (`rl_` + 32 random url-safe bytes) is shown once;
-- only its SHA-256 is stored (keys are high-entropy: a fast hash is right, and argon2
-- would slow every API call). A key acts as its owner, limited to one project when
-- `project_id` is set: the API then adds `runloom_project_id` to the session's claims and
-- the ownership checks below refuse every other project.

CREATE TABLE IF NOT EXISTS public.api_keys (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  project_id UUID REFERENCES public.projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ,
  last_used_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
);

CREATE INDEX IF NOT EXISTS idx_api_keys_user ON public.api_keys (user_id, created_at DESC);

ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;

-- Owners list, create and delete their own keys, and never read a hash back.
REVOKE ALL ON public.api_keys FROM anon, authenticated;
GRANT SELECT (id, user_id, project_id, name, prefix, created_at, expires_at, last_used_at,
              revoked_at)
  ON public.api_keys TO authenticated;
GRANT INSERT, DELETE ON public.api_keys TO authenticated;
GRANT UPDATE (revoked_at) ON public.api_keys TO authenticated;
GRANT ALL ON public.api_keys TO service_role;

CREATE POLICY api_keys_owner_select ON public.api_keys
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
CREATE POLICY api_keys_owner_insert ON public.api_keys
  FOR INSERT TO authenticated
  WITH CHECK (
    user_id = (SELECT auth.uid())
    AND (project_id IS NULL OR public.owns_project(project_id))
  );
-- Revoking sets revoked_at (so that a revoked key is told apart from an unknown one).
CREATE POLICY api_keys_owner_revoke ON public.api_keys
  FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY api_keys_owner_delete ON public.api_keys
  FOR DELETE TO authenticated USING (user_id = (SELECT auth.uid()));

-- The project a project-scoped key is limited to, or NULL for a user's own session.
CREATE OR REPLACE FUNCTION public.key_project_id()
RETURNS UUID
LANGUAGE sql STABLE
SET search_path = public, pg_temp
AS $$
  SELECT nullif(
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'runloom_project_id', ''
  )::uuid
$$;

REVOKE EXECUTE ON FUNCTION public.key_project_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.key_project_id() TO authenticated, service_role;

-- Ownership now also honours a key's project: every policy and SECURITY DEFINER function
-- that goes through these (workflows, versions, executions, workers, statistics,
-- record_execution_start) is limited with it.
CREATE OR REPLACE FUNCTION public.owns_project(p_project_id UUID)
RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.projects
    WHERE id = p_project_id AND created_by = (SELECT auth.uid())
      AND ((SELECT public.key_project_id()) IS NULL OR id = (SELECT public.key_project_id()))
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
      AND ((SELECT public.key_project_id()) IS NULL OR p.id = (SELECT public.key_project_id()))
  );
$$;

DROP POLICY IF EXISTS projects_owner ON public.projects;
CREATE POLICY projects_owner ON public.projects
  FOR ALL TO authenticated
  USING (
    created_by = (SELECT auth.uid())
    AND ((SELECT public.key_project_id()) IS NULL OR id = (SELECT public.key_project_id()))
  )
  WITH CHECK (
    created_by = (SELECT auth.uid())
    AND ((SELECT public.key_project_id()) IS NULL OR id = (SELECT public.key_project_id()))
  );

-- The owner of a live key (not revoked, not expired), for the API's service session;
-- `last_used_at` is written at most once a minute, so that a busy key costs no write on
-- most calls.
CREATE OR REPLACE FUNCTION public.api_key_principal(p_key_hash TEXT)
RETURNS TABLE (user_id UUID, email TEXT, project_id UUID, state TEXT)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_key public.api_keys;
BEGIN
  SELECT * INTO v_key FROM public.api_keys AS k WHERE k.key_hash = p_key_hash;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF v_key.revoked_at IS NOT NULL THEN
    RETURN QUERY SELECT v_key.user_id, NULL::TEXT, v_key.project_id, 'revoked'::TEXT;
    RETURN;
  END IF;
  IF v_key.expires_at IS NOT NULL AND v_key.expires_at <= now() THEN
    RETURN QUERY SELECT v_key.user_id, NULL::TEXT, v_key.project_id, 'expired'::TEXT;
    RETURN;
  END IF;
  IF v_key.last_used_at IS NULL OR v_key.last_used_at < now() - interval '1 minute' THEN
    UPDATE public.api_keys SET last_used_at = now() WHERE id = v_key.id;
  END IF;
  RETURN QUERY
    SELECT v_key.user_id, u.email::TEXT, v_key.project_id, 'live'::TEXT
    FROM public.users AS u WHERE u.id = v_key.user_id;
END
$$;

REVOKE EXECUTE ON FUNCTION public.api_key_principal(TEXT) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.api_key_principal(TEXT) FROM anon, authenticated;
GRANT EXECUTE ON FUNCTION public.api_key_principal(TEXT) TO service_role;
