SELECT * FROM public.workflow_executions
WHERE (%(workflow_id)s::uuid IS NULL OR workflow_id = %(workflow_id)s::uuid)
  AND (%(project_id)s::uuid IS NULL OR project_id = %(project_id)s::uuid)
  AND (%(status)s::varchar IS NULL OR status = %(status)s::varchar)
ORDER BY created_at DESC
LIMIT %(limit)s
