SELECT id, workflow_id, project_id, type, enabled, token_prefix, cron, interval_s, timezone,
       input, overlap, created_at, updated_at,
       (SELECT p.temporal_namespace FROM public.projects AS p WHERE p.id = project_id)
         AS temporal_namespace
FROM public.workflow_triggers
WHERE workflow_id = %(workflow_id)s
ORDER BY created_at, id
