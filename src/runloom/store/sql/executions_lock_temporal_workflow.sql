-- Until the transaction ends: one retry at a time per Temporal workflow id (a reset
-- terminates the workflow's open run, so two at once would end one of them).
SELECT pg_advisory_xact_lock(hashtextextended(%(temporal_workflow_id)s, 0))
