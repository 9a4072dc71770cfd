-- One page of run history, newest first; a page asks for one row more than it shows, to
-- know whether another follows. The filters are repeated in executions_counts.sql.
SELECT * FROM public.workflow_executions
WHERE (%(workflow_id)s::uuid IS NULL OR workflow_id = %(workflow_id)s::uuid)
  AND (%(project_id)s::uuid IS NULL OR project_id = %(project_id)s::uuid)
  AND (%(status)s::varchar IS NULL OR status = %(status)s::varchar)
  AND (%(triggered_by)s::text IS NULL OR triggered_by = %(triggered_by)s::text)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s::timestamptz)
  AND (%(pattern)s::text IS NULL
       OR input::text ILIKE %(pattern)s::text
       OR output::text ILIKE %(pattern)s::text
       OR error ILIKE %(pattern)s::text)
  AND (%(after_created_at)s::timestamptz IS NULL
       OR (created_at, id) < (%(after_created_at)s::timestamptz, %(after_id)s::uuid))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
