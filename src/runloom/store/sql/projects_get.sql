SELECT p.*,
       (SELECT count(*) FROM public.workflows AS w WHERE w.project_id = p.id) AS workflow_count,
       -- workflows with an active version: with none, the project has no worker to run
       (SELECT count(*) FROM public.workflows AS w
        WHERE w.project_id = p.id
          AND EXISTS (SELECT 1 FROM public.workflow_compiled_code AS c
                      WHERE c.workflow_id = w.id AND c.is_active)) AS deployed_workflow_count
FROM public.projects AS p
WHERE p.id = %(id)s
