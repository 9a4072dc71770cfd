-- The current row of each project: its active worker, else its most recent one.
SELECT DISTINCT ON (project_id) *
FROM public.workflow_workers
WHERE project_id = ANY(%(project_ids)s)
ORDER BY project_id, (status IN ('starting', 'running')) DESC, created_at DESC
