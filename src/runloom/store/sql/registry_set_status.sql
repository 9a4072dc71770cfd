-- stopping, stopped or failed; a row some other manager already failed stays as it is.
UPDATE public.workflow_workers
SET status = %(status)s::varchar, updated_at = NOW(),
    stopped_at = CASE WHEN %(status)s::varchar IN ('stopped', 'failed') THEN NOW() ELSE stopped_at END,
    total_tasks_completed = coalesce(%(completed)s, total_tasks_completed),
    total_tasks_failed = coalesce(%(failed)s, total_tasks_failed),
    metadata = coalesce(metadata, '{}'::jsonb) || %(metadata)s::jsonb
WHERE id = %(id)s AND status IN ('starting', 'running', 'stopping')
RETURNING id
