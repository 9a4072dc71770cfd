-- Recovering from failure: a run is started again from scratch (a re-run, `rerun_of`) or
-- continued from its failed step by a Temporal workflow reset (a retry, `retry_of`). Both
-- are new rows that name the run they recover, so the run list can show the link; the
-- run they recover keeps what happened to it.

ALTER TABLE public.workflow_executions
  ADD COLUMN IF NOT EXISTS retry_of UUID
    REFERENCES public.workflow_executions (id) ON DELETE SET NULL,
  ADD COLUMN IF NOT EXISTS rerun_of UUID
    REFERENCES public.workflow_executions (id) ON DELETE SET NULL;

-- Deleting a workflow deletes its runs, and each deleted row looks for rows naming it:
-- without these, every one of those lookups would scan the table.
CREATE INDEX IF NOT EXISTS idx_executions_retry_of
  ON public.workflow_executions (retry_of) WHERE retry_of IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_executions_rerun_of
  ON public.workflow_executions (rerun_of) WHERE rerun_of IS NOT NULL;

-- record_execution_start learns what started the run (a trigger must be the workflow's,
-- 20251220000002_triggers.sql) and which run a re-run repeats (one of the same workflow,
-- which the caller owns, as checked first).
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
  p_trigger_id UUID DEFAULT NULL,
  p_rerun_of UUID DEFAULT NULL
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
  IF p_rerun_of IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM public.workflow_executions AS e
    WHERE e.id = p_rerun_of AND e.workflow_id = p_workflow_id
  ) THEN
    RAISE EXCEPTION 'execution % is not a run of workflow %', p_rerun_of, p_workflow_id
      USING ERRCODE = '22023';
  END IF;

  INSERT INTO public.workflow_executions (
    id, workflow_id, project_id, status, input, temporal_workflow_id, temporal_run_id,
    code_version, workflow_type, task_queue_name, created_by, started_at,
    triggered_by, trigger_id, rerun_of
  )
  VALUES (
    p_id, p_workflow_id, p_project_id, 'running', p_input,
    p_temporal_workflow_id, p_temporal_run_id, p_code_version, p_workflow_type,
    p_task_queue_name, v_user, NOW(), p_triggered_by, p_trigger_id, p_rerun_of
  )
  RETURNING * INTO v_row;

  -- Delivered on commit: the tracker starts following the run at once.
  PERFORM pg_notify('runloom_executions', v_row.id::text);
  RETURN NEXT v_row;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, UUID, UUID) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, UUID, UUID) FROM anon;
GRANT EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, UUID, UUID) TO authenticated, service_role;

-- Record a retry the API has just made with a Temporal reset of the run `p_retry_of`: the
-- reset run keeps the Temporal workflow id, and runs the same version with the same
-- input on the same queue, so all of that is copied from the original, never taken from
-- the caller; only the new run id is the caller's word (Temporal answered it). The
-- original must be the caller's and must have ended without completing.
-- SECURITY DEFINER for the same reason as record_execution_start: users cannot INSERT.
CREATE OR REPLACE FUNCTION public.record_execution_retry(
  p_id UUID,
  p_retry_of UUID,
  p_temporal_run_id TEXT
)
RETURNS SETOF public.workflow_executions
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_user UUID := auth.uid();
  v_original public.workflow_executions;
  v_row public.workflow_executions;
BEGIN
  SELECT * INTO v_original FROM public.workflow_executions WHERE id = p_retry_of;
  IF v_user IS NULL OR NOT FOUND OR NOT public.owns_workflow(v_original.workflow_id) THEN
    RAISE EXCEPTION 'execution % not found', p_retry_of
      USING ERRCODE = '42501',
            HINT = 'record_execution_retry records a retry of a run the caller owns';
  END IF;
  IF v_original.status NOT IN ('failed', 'timed_out', 'terminated', 'cancelled') THEN
    RAISE EXCEPTION 'execution % is %; only a run that ended without completing is retried',
      p_retry_of, v_original.status
      USING ERRCODE = '22023';
  END IF;
  IF v_original.temporal_workflow_id IS NULL OR v_original.temporal_run_id IS NULL
     OR p_temporal_run_id IS NULL OR p_temporal_run_id = v_original.temporal_run_id THEN
    RAISE EXCEPTION 'a retry of execution % is a new Temporal run of %', p_retry_of,
      v_original.temporal_workflow_id
      USING ERRCODE = '22023';
  END IF;

  INSERT INTO public.workflow_executions (
    id, workflow_id, project_id, status, input, temporal_workflow_id, temporal_run_id,
    code_version, workflow_type, task_queue_name, created_by, started_at,
    triggered_by, trigger_id, retry_of
  )
  VALUES (
    p_id, v_original.workflow_id, v_original.project_id, 'running', v_original.input,
    v_original.temporal_workflow_id, p_temporal_run_id, v_original.code_version,
    v_original.workflow_type, v_original.task_queue_name, v_user, NOW(),
    v_original.triggered_by, v_original.trigger_id, p_retry_of
  )
  RETURNING * INTO v_row;

  -- Delivered on commit: the tracker starts following the run at once.
  PERFORM pg_notify('runloom_executions', v_row.id::text);
  RETURN NEXT v_row;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.record_execution_retry(UUID, UUID, TEXT) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.record_execution_retry(UUID, UUID, TEXT) FROM anon;
GRANT EXECUTE ON FUNCTION public.record_execution_retry(UUID, UUID, TEXT) TO authenticated, service_role;
