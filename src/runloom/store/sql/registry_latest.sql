SELECT worker_id, status, metadata, last_heartbeat FROM public.workflow_workers
WHERE project_id = %(project_id)s
ORDER BY created_at DESC
LIMIT 1
