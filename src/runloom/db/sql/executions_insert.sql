WITH inserted AS (
  INSERT INTO public.workflow_executions (
    id, workflow_id, project_id, status, input, temporal_workflow_id, temporal_run_id,
    code_version, workflow_type, task_queue_name, created_by, started_at
  )
  VALUES (
    %(id)s, %(workflow_id)s, %(project_id)s, 'running', %(input)s, %(temporal_workflow_id)s,
    %(temporal_run_id)s, %(code_version)s, %(workflow_type)s, %(task_queue_name)s,
    %(created_by)s, NOW()
  )
  RETURNING *
), notified AS (
  -- Delivered on commit: the tracker starts following the run at once.
  SELECT pg_notify('runloom_executions', id::text) FROM inserted
)
SELECT inserted.* FROM inserted, notified
