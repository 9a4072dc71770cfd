-- Run history pages newest first by (created_at, id): one index per way it is read (all
-- of a user's runs; a workflow's; a project's), each ending in the paging key.
CREATE INDEX IF NOT EXISTS idx_executions_user_page
  ON public.workflow_executions (created_by, created_at DESC, id DESC);
DROP INDEX IF EXISTS public.idx_executions_workflow;
CREATE INDEX IF NOT EXISTS idx_executions_workflow_page
  ON public.workflow_executions (workflow_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_executions_project_page
  ON public.workflow_executions (project_id, created_at DESC, id DESC);
