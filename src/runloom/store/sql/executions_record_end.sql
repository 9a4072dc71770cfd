-- A run's end, its live notice and its statistics in one statement (see the migration
-- that defines record_execution_end); no row when another tracker recorded it first.
SELECT * FROM public.record_execution_end(
  %(id)s, %(status)s, %(output)s, %(error)s, %(node_states)s, %(started_at)s,
  %(finished_at)s, %(duration_ms)s, %(live_channel)s, %(live_payload)s, %(count)s,
  %(activities)s
)
