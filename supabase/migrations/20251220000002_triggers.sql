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

-- record_execution_start learns what started the run; a trigger must be the workflow's.
DROP FUNCTION IF EXISTS public.record_execution_start(
  UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT
);

CREATE OR REPLACE FUNCTION public.record_execution_start(
  p_id UUID,
  p_workflow_id UUID,
  p_project_id UUID,
  p_input JSONB,
  p_temporal_workflow_id TEXT,
  p_temporal_run_id TEXT,
  p_code_version TEXT,
  p_workflow_type TEXT,
  p_task_queue_name TEXT,
  p_triggered_by TEXT DEFAULT 'manual',
  p_trigger_id UUID DEFAULT NULL
)
RETURNS SETOF public.workflow_executions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_user UUID := auth.uid();
  v_key TEXT;
  v_project_id UUID;
  v_task_queue TEXT;
  v_row public.workflow_executions;
BEGIN
  IF v_user IS NULL OR p_workflow_id IS NULL OR NOT public.owns_workflow(p_workflow_id) THEN
    RAISE EXCEPTION 'workflow % not found', p_workflow_id
      USING ERRCODE = '42501',
            HINT = 'record_execution_start records a run of a workflow the caller owns';
  END IF;

  SELECT w.key, w.project_id, p.task_queue_name
    INTO v_key, v_project_id, v_task_queue
  FROM public.workflows AS w
  JOIN public.projects AS p ON p.id = w.project_id
  WHERE w.id = p_workflow_id;

  IF p_project_id IS DISTINCT FROM v_project_id THEN
    RAISE EXCEPTION 'workflow % is not in project %', p_workflow_id, p_project_id
      USING ERRCODE = '42501';
  END IF;
  IF p_task_queue_name IS DISTINCT FROM v_task_queue THEN
    RAISE EXCEPTION 'task queue % is not the queue of project %', p_task_queue_name, p_project_id
      USING ERRCODE = '22023';
  END IF;
  IF p_temporal_workflow_id IS DISTINCT FROM v_key || '-' || p_id::text THEN
    RAISE EXCEPTION 'temporal workflow id % is not %', p_temporal_workflow_id, v_key || '-' || p_id::text
      USING ERRCODE = '22023';
  END IF;
  IF p_workflow_type IS DISTINCT FROM v_key || '@v' || p_code_version
     OR NOT EXISTS (
       SELECT 1 FROM public.workflow_compiled_code AS c
       WHERE c.workflow_id = p_workflow_id AND c.version = p_code_version
     ) THEN
    RAISE EXCEPTION 'workflow % has no version % (workflow type %)',
      p_workflow_id, p_code_version, p_workflow_type
      USING ERRCODE = '22023';
  END IF;
  IF (p_trigger_id IS NULL) <> (p_triggered_by IN ('manual', 'api'))
     OR (p_trigger_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM public.workflow_triggers AS t
       WHERE t.id = p_trigger_id AND t.workflow_id = p_workflow_id AND t.type = p_triggered_by
     )) THEN
    RAISE EXCEPTION 'run started by % (trigger %) is not a start of workflow %',
      p_triggered_by, p_trigger_id, p_workflow_id
      USING ERRCODE = '22023';
  END IF;

  INSERT INTO public.workflow_executions (
    id, workflow_id, project_id, status, input, temporal_workflow_id, temporal_run_id,
    code_version, workflow_type, task_queue_name, created_by, started_at,
    triggered_by, trigger_id
  )
  VALUES (
    p_id, p_workflow_id, p_project_id, 'running', p_input,
    p_temporal_workflow_id, p_temporal_run_id, p_code_version, p_workflow_type,
    p_task_queue_name, v_user, NOW(), p_triggered_by, p_trigger_id
  )
  RETURNING * INTO v_row;

  -- Delivered on commit: the tracker starts following the run at once.
  PERFORM pg_notify('runloom_executions', v_row.id::text);
  RETURN NEXT v_row;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, UUID) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, UUID) FROM anon;
GRANT EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, UUID) TO authenticated, service_role;

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
