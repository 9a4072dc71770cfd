SELECT p.*,
       (SELECT count(*) FROM public.workflows AS w WHERE w.project_id = p.id) AS workflow_count
FROM public.projects AS p
ORDER BY p.updated_at DESC, p.created_at DESC
