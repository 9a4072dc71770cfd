-- Executions are written by the platform, not by users. Until now `authenticated` could
-- INSERT and UPDATE every column of its own rows (and on Supabase any client holding the
-- anon key and a user's JWT can, through PostgREST), so a user could forge the status,
-- output or node states of their runs, or record a run under Temporal ids of their choice.
-- Now a user may only read and delete their executions; a run is recorded through
-- record_execution_start (which derives what it can and checks the rest), and everything
-- after that is written by the tracker as service_role.

REVOKE INSERT, UPDATE ON public.workflow_executions FROM authenticated;

-- Record a run the API has just started with Temporal, as the calling user (auth.uid()):
-- the caller must own the workflow, the project must be the workflow's, and the Temporal
-- workflow id, workflow type and task queue must be the ones runloom derives for it
-- (`<key>-<execution id>`, `<key>@v<version>` of a stored version, the project's queue),
-- so a recorded execution can only ever point at the run its own start created.
-- SECURITY DEFINER: it inserts with its owner's rights, which the caller no longer has.
-- A session without a user (service_role alone) has no auth.uid() and is refused.
CREATE OR REPLACE FUNCTION public.record_execution_start(
  p_id UUID,
  p_workflow_id UUID,
  p_project_id UUID,
  p_input JSONB,
  p_temporal_workflow_id TEXT,
  p_temporal_run_id TEXT,
  p_code_version TEXT,
  p_workflow_type TEXT,
  p_task_queue_name TEXT
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

  INSERT INTO public.workflow_executions (
    id, workflow_id, project_id, status, input, temporal_workflow_id, temporal_run_id,
    code_version, workflow_type, task_queue_name, created_by, started_at
  )
  VALUES (
    p_id, p_workflow_id, p_project_id, 'running', p_input,
    p_temporal_workflow_id, p_temporal_run_id, p_code_version, p_workflow_type,
    p_task_queue_name, v_user, NOW()
  )
  RETURNING * INTO v_row;

  -- Delivered on commit: the tracker starts following the run at once.
  PERFORM pg_notify('runloom_executions', v_row.id::text);
  RETURN NEXT v_row;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT) FROM anon;
GRANT EXECUTE ON FUNCTION public.record_execution_start(UUID, UUID, UUID, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT) TO authenticated, service_role;
