-- One version's graph (NULL for versions stored before graphs were kept).
SELECT c.id, c.version, c.is_active, c.compiled_at, c.graph
FROM public.workflow_compiled_code AS c
WHERE c.workflow_id = %(workflow_id)s AND c.version = %(version)s
