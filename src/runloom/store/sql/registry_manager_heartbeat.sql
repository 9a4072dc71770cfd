-- A manager vouches for its rows; an id missing from the result was declared stale by
-- another manager and is no longer ours.
UPDATE public.workflow_workers
SET last_heartbeat = NOW(), updated_at = NOW()
WHERE id = ANY(%(ids)s) AND status IN ('starting', 'running')
RETURNING id
