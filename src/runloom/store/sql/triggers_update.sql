UPDATE public.workflow_triggers
SET enabled = %(enabled)s, cron = %(cron)s, interval_s = %(interval_s)s,
    timezone = %(timezone)s, input = %(input)s, overlap = %(overlap)s, updated_at = now()
WHERE id = %(id)s
RETURNING id, workflow_id, project_id, type, enabled, token_prefix, cron, interval_s,
          timezone, input, overlap, created_at, updated_at,
          (SELECT p.temporal_namespace FROM public.projects AS p WHERE p.id = project_id)
            AS temporal_namespace
