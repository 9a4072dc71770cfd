-- Users may not write executions themselves: record_execution_start checks that the run
-- is the caller's own, with the names runloom derives, and notifies the tracker on commit.
SELECT * FROM public.record_execution_start(
  %(id)s, %(workflow_id)s, %(project_id)s, %(input)s, %(temporal_workflow_id)s,
  %(temporal_run_id)s, %(code_version)s, %(workflow_type)s, %(task_queue_name)s,
  %(triggered_by)s, %(trigger_id)s, %(rerun_of)s
)
