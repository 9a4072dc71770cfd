-- Users may not write executions themselves: record_execution_retry copies what a retry
-- shares with the run it continues, checks the run is the caller's and ended without
-- completing, and notifies the tracker on commit.
SELECT * FROM public.record_execution_retry(%(id)s, %(retry_of)s, %(temporal_run_id)s)
