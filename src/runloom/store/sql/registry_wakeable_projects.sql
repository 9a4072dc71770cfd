-- Projects that could need a worker: deployed code, no active worker, and not given up on
-- after a crash loop (only an explicit request starts those again).
SELECT p.id, p.task_queue_name, p.temporal_namespace
FROM public.projects AS p
WHERE p.is_active
  AND EXISTS (
    SELECT 1 FROM public.workflows AS w
    JOIN public.workflow_compiled_code AS c ON c.workflow_id = w.id
    WHERE w.project_id = p.id
  )
  AND NOT EXISTS (
    SELECT 1 FROM public.workflow_workers AS ww
    WHERE ww.project_id = p.id AND ww.status IN ('starting', 'running')
  )
  AND coalesce((
    SELECT ww.metadata->>'reason' FROM public.workflow_workers AS ww
    WHERE ww.project_id = p.id ORDER BY ww.created_at DESC LIMIT 1
  ), '') <> 'crash_loop'
