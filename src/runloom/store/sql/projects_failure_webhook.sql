-- Where a failed run of this workflow is announced (only when its project set a URL),
-- and the workflow's name for the notice. Read by the tracker's notifier as service_role.
SELECT p.failure_webhook_url AS url, w.name AS workflow_name
FROM public.workflows AS w
JOIN public.projects AS p ON p.id = w.project_id
WHERE w.id = %(workflow_id)s AND p.failure_webhook_url IS NOT NULL
