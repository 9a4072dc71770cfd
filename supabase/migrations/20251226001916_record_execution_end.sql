-- The tracker records a run's end in one statement: the row finished (only the first
-- writer wins: its statistics are counted exactly once), the live streams told (on
-- commit), and, for a run runloom started for this row (p_count), the project, version
-- and activity statistics. Before this, one end took about ten round trips.
--
-- p_activities: [{"name", "duration_ms", "success", "finished_at"}, ...], the activities
-- of the run's own history (runloom.manager.statistics.activity_runs).
-- Service role only: users never write executions' ends.
CREATE OR REPLACE FUNCTION public.record_execution_end(
  p_id UUID,
  p_status TEXT,
  p_output JSONB,
  p_error TEXT,
  p_node_states JSONB,
  p_started_at TIMESTAMPTZ,
  p_finished_at TIMESTAMPTZ,
  p_duration_ms INTEGER,
  p_live_channel TEXT,
  p_live_payload TEXT,
  p_count BOOLEAN,
  p_activities JSONB
)
RETURNS TABLE (id UUID, workflow_id UUID, project_id UUID, code_version TEXT)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_row public.workflow_executions;
  v_activity RECORD;
  v_activities INTEGER := coalesce(jsonb_array_length(p_activities), 0);
BEGIN
  UPDATE public.workflow_executions AS e
  SET status = p_status,
      output = p_output,
      error = p_error,
      node_states = coalesce(p_node_states, e.node_states),
      finished_at = p_finished_at,
      started_at = coalesce(p_started_at, e.started_at),
      duration_ms = p_duration_ms,
      stats_recorded_at = NOW(),
      updated_at = NOW()
  WHERE e.id = p_id AND e.stats_recorded_at IS NULL
  RETURNING e.* INTO v_row;
  IF NOT FOUND THEN
    RETURN;  -- another tracker recorded it first
  END IF;

  PERFORM pg_notify(p_live_channel, p_live_payload);

  IF p_count THEN
    UPDATE public.projects AS p
    SET total_workflow_executions = coalesce(p.total_workflow_executions, 0) + 1,
        total_execution_duration_ms = p.total_execution_duration_ms + greatest(p_duration_ms, 0),
        avg_execution_duration_ms = round(
          (p.total_execution_duration_ms + greatest(p_duration_ms, 0))::numeric
          / (coalesce(p.total_workflow_executions, 0) + 1)
        ),
        total_activity_executions = coalesce(p.total_activity_executions, 0) + v_activities,
        last_execution_at = NOW()
    WHERE p.id = v_row.project_id;
    -- increment_code_stats, inline: one statement fewer per end.
    UPDATE public.workflow_compiled_code AS c
    SET execution_count = coalesce(c.execution_count, 0) + 1,
        total_execution_duration_ms = c.total_execution_duration_ms + greatest(p_duration_ms, 0),
        avg_execution_duration_ms = round(
          (c.total_execution_duration_ms + greatest(p_duration_ms, 0))::numeric
          / (coalesce(c.execution_count, 0) + 1)
        ),
        error_count = coalesce(c.error_count, 0) + CASE WHEN p_status = 'completed' THEN 0 ELSE 1 END,
        last_executed_at = NOW()
    WHERE c.workflow_id = v_row.workflow_id
      AND (CASE WHEN v_row.code_version IS NULL THEN c.is_active
                ELSE c.version = v_row.code_version END);
    IF v_activities > 0 THEN
      FOR v_activity IN
        SELECT a.name, a.duration_ms, a.success, a.finished_at
        FROM jsonb_to_recordset(p_activities)
          AS a (name TEXT, duration_ms INTEGER, success BOOLEAN, finished_at TIMESTAMPTZ)
      LOOP
        PERFORM public.record_activity_execution(
          v_row.project_id, v_activity.name::varchar, v_activity.duration_ms,
          v_activity.success, v_activity.finished_at
        );
      END LOOP;
    END IF;
  END IF;

  id := v_row.id;
  workflow_id := v_row.workflow_id;
  project_id := v_row.project_id;
  code_version := v_row.code_version;
  RETURN NEXT;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.record_execution_end(
  UUID, TEXT, JSONB, TEXT, JSONB, TIMESTAMPTZ, TIMESTAMPTZ, INTEGER, TEXT, TEXT, BOOLEAN, JSONB
) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_execution_end(
  UUID, TEXT, JSONB, TEXT, JSONB, TIMESTAMPTZ, TIMESTAMPTZ, INTEGER, TEXT, TEXT, BOOLEAN, JSONB
) TO service_role;
