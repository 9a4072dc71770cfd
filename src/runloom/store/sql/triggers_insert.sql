INSERT INTO public.workflow_triggers (
  id, workflow_id, project_id, created_by, type, token_hash, token_ciphertext, token_prefix,
  cron, interval_s, timezone, input, overlap
)
SELECT %(id)s, w.id, w.project_id, %(user_id)s, %(type)s, %(token_hash)s,
       %(token_ciphertext)s, %(token_prefix)s, %(cron)s, %(interval_s)s, %(timezone)s,
       %(input)s, %(overlap)s
FROM public.workflows AS w
WHERE w.id = %(workflow_id)s
RETURNING id, workflow_id, project_id, type, enabled, token_prefix, cron, interval_s,
          timezone, input, overlap, created_at, updated_at,
          (SELECT p.temporal_namespace FROM public.projects AS p WHERE p.id = project_id)
            AS temporal_namespace
