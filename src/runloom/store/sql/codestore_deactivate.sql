UPDATE public.workflow_compiled_code
SET is_active = false
WHERE workflow_id = %(workflow_id)s AND is_active AND version <> %(version)s
