UPDATE public.workflow_compiled_code
SET is_active = true
WHERE workflow_id = %(workflow_id)s AND version = %(version)s
RETURNING id
