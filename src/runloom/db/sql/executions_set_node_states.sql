UPDATE public.workflow_executions
SET node_states = %(node_states)s, updated_at = NOW()
WHERE id = %(id)s AND status IN ('pending', 'running') AND node_states IS DISTINCT FROM %(node_states)s
