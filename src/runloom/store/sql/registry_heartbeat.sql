-- Returns nothing when the row is no longer ours (another manager declared it stale).
UPDATE public.workflow_workers
SET last_heartbeat = NOW(), updated_at = NOW(),
    cpu_usage_percent = %(cpu)s, memory_usage_mb = %(memory_mb)s,
    total_tasks_completed = %(completed)s, total_tasks_failed = %(failed)s,
    avg_task_duration_ms = coalesce(%(avg_task_ms)s, avg_task_duration_ms),
    metadata = coalesce(metadata, '{}'::jsonb) || %(metadata)s::jsonb
WHERE id = %(id)s AND status IN ('starting', 'running')
RETURNING id
