-- The project's running worker, if it serves the requested workflow type (or any, if NULL).
SELECT worker_id FROM public.workflow_workers
WHERE project_id = %(project_id)s AND status = 'running'
  AND (%(workflow_type)s::text IS NULL OR coalesce(metadata->'loaded', '[]'::jsonb) ? %(workflow_type)s::text)
