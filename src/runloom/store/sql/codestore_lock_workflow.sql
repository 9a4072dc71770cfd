-- The workflow row is the lock that serialises deploys of one workflow.
SELECT id, key, graph, project_id
FROM public.workflows
WHERE id = %(workflow_id)s
FOR UPDATE
