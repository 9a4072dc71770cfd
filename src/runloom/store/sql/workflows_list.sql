SELECT w.*, c.version AS active_version
FROM public.workflows AS w
LEFT JOIN public.workflow_compiled_code AS c ON c.workflow_id = w.id AND c.is_active
WHERE (%(project_id)s::uuid IS NULL OR w.project_id = %(project_id)s::uuid)
ORDER BY w.updated_at DESC
