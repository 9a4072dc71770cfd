DELETE FROM public.workflow_triggers WHERE id = %(id)s RETURNING id
