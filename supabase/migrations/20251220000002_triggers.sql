-- Triggers: what starts a workflow other than a person. A webhook is a URL that starts a
-- run when called with its token; a schedule is a Temporal Schedule (runloom keeps no
-- timer of its own) whose every action asks the manager for a run of the active version.
-- Every run records what started it (`triggered_by`, and which trigger).

CREATE TABLE IF NOT EXISTS public.workflow_triggers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_id UUID NOT NULL REFERENCES public.workflows (id) ON DELETE CASCADE,
  project_id UUID NOT NULL REFERENCES public.projects (id) ON DELETE CASCADE,
  created_by UUID NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('webhook', 'schedule')),
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  -- Webhooks: the token's SHA-256 (bearer checks) and the token itself encrypted under
  -- the secrets key (HMAC signatures need it); its first characters, to tell keys apart.
  token_hash TEXT,
  token_ciphertext BYTEA,
  token_prefix TEXT,
  -- Schedules: exactly one of a cron expression and an interval.
  cron TEXT CHECK (cron IS NULL OR length(cron) BETWEEN 1 AND 200),
  interval_s INTEGER CHECK (interval_s IS NULL OR interval_s BETWEEN 1 AND 31622400),
  timezone TEXT NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64),
  input JSONB NOT NULL DEFAULT '{}'::jsonb,
  overlap TEXT NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'buffer_one', 'allow_all')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT workflow_triggers_webhook_token CHECK (
    (type = 'webhook') = (token_hash IS NOT NULL AND token_ciphertext IS NOT NULL)
  ),
  CONSTRAINT workflow_triggers_schedule_spec CHECK (
    type <> 'schedule' OR ((cron IS NULL) <> (interval_s IS NULL))
  )
);

CREATE INDEX IF NOT EXISTS idx_workflow_triggers_workflow
  ON public.workflow_triggers (workflow_id, created_at);

ALTER TABLE public.workflow_triggers ENABLE ROW LEVEL SECURITY;

-- Owners see and manage their workflows' triggers but never read a token back.
REVOKE ALL ON public.workflow_triggers FROM anon, authenticated;
GRANT SELECT (id, workflow_id, project_id, created_by, type, enabled, token_prefix, cron,
              interval_s, timezone, input, overlap, created_at, updated_at)
  ON public.workflow_triggers TO authenticated;
GRANT INSERT, DELETE ON public.workflow_triggers TO authenticated;
GRANT UPDATE (enabled, cron, interval_s, timezone, input, overlap, updated_at)
  ON public.workflow_triggers TO authenticated;
GRANT ALL ON public.workflow_triggers TO service_role;

CREATE POLICY workflow_triggers_owner ON public.workflow_triggers
  FOR ALL TO authenticated
  USING (public.owns_workflow(workflow_id))
  WITH CHECK (
    public.owns_workflow(workflow_id)
    AND created_by = (SELECT auth.uid())
    AND project_id = (SELECT w.project_id FROM public.workflows AS w WHERE w.id = workflow_id)
  );

-- What started each run.
ALTER TABLE public.workflow_executions
  ADD COLUMN IF NOT EXISTS triggered_by TEXT NOT NULL DEFAULT 'manual'
    CHECK (triggered_by IN ('manual', 'api', 'webhook', 'schedule')),
  ADD COLUMN IF NOT EXISTS trigger_id UUID
    REFERENCES public.workflow_triggers (id) ON DELETE SET NULL;

-- Runs record their origin through record_execution_start, redefined (once, with its
-- other new argument) in 20251222000001_execution_recovery.sql.


-- This installation's identity. Its platform task queue (where schedules' actions run) is
-- named after it, so several runloom installations may share one Temporal namespace
-- without serving each other's schedules.
CREATE TABLE IF NOT EXISTS public.runloom_installation (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  id UUID NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO public.runloom_installation DEFAULT VALUES ON CONFLICT DO NOTHING;
ALTER TABLE public.runloom_installation ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.runloom_installation FROM anon, authenticated;
GRANT SELECT ON public.runloom_installation TO service_role;
