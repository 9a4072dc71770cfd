-- The project's running worker, if it serves the requested workflow type (or any, if NULL).
SELECT worker_id FROM public.workflow_workers
WHERE project_id = %(project_id)s AND status = 'running'
  AND public.worker_serves(metadata, %(workflow_type)s::text)
