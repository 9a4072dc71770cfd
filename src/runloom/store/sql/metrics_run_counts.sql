-- Runs started and ended by project, event and origin: the shards summed.
SELECT project_id, event, triggered_by, sum(count)::bigint AS count
FROM public.run_counters
GROUP BY project_id, event, triggered_by
