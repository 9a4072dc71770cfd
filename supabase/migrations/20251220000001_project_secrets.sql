-- Project secrets: named values (API tokens, passwords) that workflows use without them
-- ever appearing in a graph, generated code or Temporal history. Values are encrypted by
-- runloom (runloom.vault, AES-256-GCM bound to the project and name) before they reach
-- the database, so a dump or a replica holds no plaintext; the key never enters Postgres.

CREATE TABLE IF NOT EXISTS public.project_secrets (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID NOT NULL REFERENCES public.projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL CHECK (name ~ '^[A-Z_][A-Z0-9_]{0,63}$'),
  ciphertext BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);

ALTER TABLE public.project_secrets ENABLE ROW LEVEL SECURITY;

-- Owners set, list and delete their projects' secrets but never read a ciphertext back:
-- only the service role (the manager handing a worker its secrets, key rotation) decrypts,
-- so a session of a user (or of a leaked API key) cannot take ciphertexts elsewhere.
REVOKE ALL ON public.project_secrets FROM anon, authenticated;
GRANT SELECT (id, project_id, name, created_at, updated_at)
  ON public.project_secrets TO authenticated;
GRANT INSERT (project_id, name, ciphertext) ON public.project_secrets TO authenticated;
GRANT UPDATE (ciphertext, updated_at) ON public.project_secrets TO authenticated;
GRANT DELETE ON public.project_secrets TO authenticated;
GRANT ALL ON public.project_secrets TO service_role;

-- owns_project() honours a project-scoped API key's `runloom_project_id` claim, so a key
-- limited to one project sees no other project's secrets.
CREATE POLICY project_secrets_owner ON public.project_secrets
  FOR ALL TO authenticated
  USING (public.owns_project(project_id))
  WITH CHECK (public.owns_project(project_id));

-- Every change is announced (payload: the project id), whoever made it, so that the
-- manager can hand running workers their new values without a restart. Notifications
-- with the same payload in one transaction are delivered once.
CREATE OR REPLACE FUNCTION public.notify_project_secrets_changed()
RETURNS TRIGGER
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('runloom_secrets_changed', OLD.project_id::text);
  ELSE
    PERFORM pg_notify('runloom_secrets_changed', NEW.project_id::text);
  END IF;
  RETURN NULL;
END
$$;

REVOKE EXECUTE ON FUNCTION public.notify_project_secrets_changed() FROM PUBLIC;

DROP TRIGGER IF EXISTS project_secrets_changed ON public.project_secrets;
CREATE TRIGGER project_secrets_changed
  AFTER INSERT OR UPDATE OR DELETE ON public.project_secrets
  FOR EACH ROW EXECUTE FUNCTION public.notify_project_secrets_changed();
