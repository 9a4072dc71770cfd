-- Rows whose manager stopped heartbeating: failed, so that the unique index frees the
-- project for a replacement. Never the rows in `keep`: the caller's own live workers.
UPDATE public.workflow_workers
SET status = 'failed',
    stopped_at = NOW(),
    updated_at = NOW(),
    metadata = coalesce(metadata, '{}'::jsonb) || jsonb_build_object(
      'reason', 'stale',
      'error', 'no heartbeat since ' || coalesce(last_heartbeat::text, 'start'),
      'failed_by', %(manager_id)s::text
    )
WHERE status IN ('starting', 'running', 'stopping')
  AND coalesce(last_heartbeat, created_at) < NOW() - make_interval(secs => %(stale_s)s)
  AND (%(project_id)s::uuid IS NULL OR project_id = %(project_id)s::uuid)
  AND NOT (id = ANY(%(keep)s::uuid[]))
RETURNING project_id, worker_id
