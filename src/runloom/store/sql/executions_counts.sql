-- How many runs match the history's filters, by status (the status filter aside, so that
-- each status can show its count).
SELECT status, count(*)::int AS runs FROM public.workflow_executions
WHERE (%(workflow_id)s::uuid IS NULL OR workflow_id = %(workflow_id)s::uuid)
  AND (%(project_id)s::uuid IS NULL OR project_id = %(project_id)s::uuid)
  AND (%(triggered_by)s::text IS NULL OR triggered_by = %(triggered_by)s::text)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s::timestamptz)
  AND (%(pattern)s::text IS NULL
       OR input::text ILIKE %(pattern)s::text
       OR output::text ILIKE %(pattern)s::text
       OR error ILIKE %(pattern)s::text)
GROUP BY status
