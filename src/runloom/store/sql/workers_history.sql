SELECT * FROM public.workflow_workers
WHERE project_id = %(project_id)s
ORDER BY created_at DESC
LIMIT %(limit)s
