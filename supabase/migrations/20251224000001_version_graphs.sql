-- Each version keeps the graph it was compiled from, so the versions page can diff and
-- preview graphs and a rollback can put that graph back in the editor.
--
-- NULL for versions stored before this migration (their graph was not kept). The column
-- is covered by the table's grants (SELECT, INSERT, UPDATE, DELETE to authenticated and
-- service_role, nothing to anon) and by its compiled_code_owner policy: a user reads and
-- writes it only on versions of workflows they own, exactly like the code beside it.
ALTER TABLE public.workflow_compiled_code
  ADD COLUMN IF NOT EXISTS graph JSONB;
