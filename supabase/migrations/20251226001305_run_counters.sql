-- Counters behind GET /metrics: runs started and ended, by project, status and what
-- started them.
--
-- Every API process and every manager must report the same totals whoever started or
-- recorded a run, so the counts live in the database, kept by triggers on the one table
-- every start and every end goes through; a scrape then reads a few rows per project
-- instead of counting workflow_executions. Each run adds to one of eight shards (by its
-- id), so that concurrent starts in one project do not queue on one row's lock.
--
-- Only the service role reads them: the table is not the user's.

CREATE TABLE IF NOT EXISTS public.run_counters (
  project_id UUID NOT NULL REFERENCES public.projects (id) ON DELETE CASCADE,
  -- 'started', or the status the run ended with
  event VARCHAR(20) NOT NULL,
  triggered_by TEXT NOT NULL,
  shard SMALLINT NOT NULL,
  count BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, event, triggered_by, shard)
);

ALTER TABLE public.run_counters ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.run_counters FROM anon, authenticated;
GRANT SELECT ON public.run_counters TO service_role;

CREATE OR REPLACE FUNCTION public.count_run_event()
RETURNS TRIGGER
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.project_id IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.run_counters AS c (project_id, event, triggered_by, shard, count)
  VALUES (
    NEW.project_id,
    CASE WHEN TG_OP = 'INSERT' THEN 'started' ELSE NEW.status END,
    NEW.triggered_by,
    hashtext(NEW.id::text) & 7,
    1
  )
  ON CONFLICT (project_id, event, triggered_by, shard)
  DO UPDATE SET count = c.count + 1;
  RETURN NULL;
END;
$$;

REVOKE EXECUTE ON FUNCTION public.count_run_event() FROM PUBLIC;

DROP TRIGGER IF EXISTS run_started_counted ON public.workflow_executions;
CREATE TRIGGER run_started_counted
  AFTER INSERT ON public.workflow_executions
  FOR EACH ROW EXECUTE FUNCTION public.count_run_event();

-- An end is the one move from open to closed; the tracker makes it once per run.
DROP TRIGGER IF EXISTS run_ended_counted ON public.workflow_executions;
CREATE TRIGGER run_ended_counted
  AFTER UPDATE OF status ON public.workflow_executions
  FOR EACH ROW
  WHEN (OLD.status IN ('pending', 'running') AND NEW.status NOT IN ('pending', 'running'))
  EXECUTE FUNCTION public.count_run_event();

-- What happened before this migration, once, so that the counters are totals.
INSERT INTO public.run_counters (project_id, event, triggered_by, shard, count)
SELECT project_id, 'started', triggered_by, 0, count(*)
FROM public.workflow_executions WHERE project_id IS NOT NULL
GROUP BY project_id, triggered_by
ON CONFLICT DO NOTHING;
INSERT INTO public.run_counters (project_id, event, triggered_by, shard, count)
SELECT project_id, status, triggered_by, 0, count(*)
FROM public.workflow_executions
WHERE project_id IS NOT NULL AND status NOT IN ('pending', 'running')
GROUP BY project_id, status, triggered_by
ON CONFLICT DO NOTHING;

-- Workers by state reads each project's latest registry row: one index probe a project.
CREATE INDEX IF NOT EXISTS idx_workers_project_latest
  ON public.workflow_workers (project_id, created_at DESC);

-- The seed's `port` column gets its use: a worker listens on nothing but, when its manager
-- serves metrics, the Temporal SDK's Prometheus endpoint on loopback.
COMMENT ON COLUMN public.workflow_workers.port IS
  'loopback port of the worker''s Temporal SDK metrics (Prometheus); NULL when it serves none';
