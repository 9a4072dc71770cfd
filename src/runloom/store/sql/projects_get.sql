SELECT p.*,
       (SELECT count(*) FROM public.workflows AS w WHERE w.project_id = p.id) AS workflow_count
FROM public.projects AS p
WHERE p.id = %(id)s
