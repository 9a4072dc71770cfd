-- Only the first writer of a run's end wins: its statistics are recorded exactly once.
UPDATE public.workflow_executions
SET status = %(status)s,
    output = %(output)s,
    error = %(error)s,
    node_states = coalesce(%(node_states)s, node_states),
    finished_at = %(finished_at)s,
    started_at = coalesce(%(started_at)s, started_at),
    duration_ms = %(duration_ms)s,
    stats_recorded_at = NOW(),
    updated_at = NOW()
WHERE id = %(id)s AND stats_recorded_at IS NULL
RETURNING id, workflow_id, project_id, code_version
