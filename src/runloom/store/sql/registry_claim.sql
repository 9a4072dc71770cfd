-- The unique partial index idx_one_active_worker_per_project turns this insert into the
-- lock: a second claimant gets a unique violation.
INSERT INTO public.workflow_workers (
  worker_id, project_id, task_queue_name, status, host, started_at, last_heartbeat, metadata
)
VALUES (
  %(worker_id)s, %(project_id)s, %(task_queue)s, 'starting', %(host)s, NOW(), NOW(),
  %(metadata)s::jsonb
)
RETURNING id
