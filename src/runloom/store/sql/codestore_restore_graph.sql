-- Rollback puts the version's graph back as the workflow's draft (when it was kept).
UPDATE public.workflows AS w
SET graph = c.graph, updated_at = NOW()
FROM public.workflow_compiled_code AS c
WHERE w.id = %(workflow_id)s AND c.workflow_id = w.id AND c.version = %(version)s
  AND c.graph IS NOT NULL
RETURNING w.id
