UPDATE public.workflows
SET version = %(version)s, updated_at = NOW()
WHERE id = %(workflow_id)s
RETURNING key
