-- Quotas per user: starting a run counts the user's open runs, which this index keeps to
-- the open rows of that one user.
CREATE INDEX IF NOT EXISTS idx_executions_open_by_user
  ON public.workflow_executions(created_by) WHERE status IN ('pending', 'running');
