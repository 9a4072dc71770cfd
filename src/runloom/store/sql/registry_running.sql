UPDATE public.workflow_workers
SET status = 'running', process_id = %(process_id)s, last_heartbeat = NOW(), updated_at = NOW(),
    metadata = coalesce(metadata, '{}'::jsonb) || %(metadata)s::jsonb
WHERE id = %(id)s AND status = 'starting'
RETURNING id
