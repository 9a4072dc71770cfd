SELECT id, (SELECT p.temporal_namespace FROM public.projects AS p WHERE p.id = project_id)
         AS temporal_namespace
FROM public.workflow_triggers
WHERE type = 'schedule'
  AND (%(workflow_id)s::uuid IS NULL OR workflow_id = %(workflow_id)s::uuid)
  AND (%(project_id)s::uuid IS NULL OR project_id = %(project_id)s::uuid)
