-- Where a worker serves its Temporal SDK metrics; whether it is a restart of a crashed one.
UPDATE public.workflow_workers
SET port = %(port)s, updated_at = NOW()
WHERE id = %(id)s
RETURNING project_id, (metadata ? 'restart_of') AS restart
