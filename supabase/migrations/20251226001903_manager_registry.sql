-- The live managers, so that a project that needs a worker goes to the least loaded one.
--
-- Worker rows alone cannot say it: a manager that has no worker yet (one just started,
-- or one whose projects all went idle) has no row in workflow_workers. Each manager
-- upserts its row with every heartbeat and deletes it when it stops; a row older than
-- the takeover time belongs to a dead manager and is ignored (then removed by the next
-- manager that registers).

CREATE TABLE IF NOT EXISTS public.runloom_managers (
  manager_id VARCHAR(255) PRIMARY KEY,
  host VARCHAR(255),
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  last_heartbeat TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

ALTER TABLE public.runloom_managers ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.runloom_managers FROM anon, authenticated;
GRANT ALL ON public.runloom_managers TO service_role;

-- Turns: a manager that was chosen to start a project's worker holds the project's turn
-- while it loads the code and claims the row, so that picks made meanwhile count it.
CREATE TABLE IF NOT EXISTS public.runloom_worker_turns (
  project_id UUID PRIMARY KEY REFERENCES public.projects (id) ON DELETE CASCADE,
  manager_id VARCHAR(255) NOT NULL,
  taken_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

ALTER TABLE public.runloom_worker_turns ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.runloom_worker_turns FROM anon, authenticated;
GRANT ALL ON public.runloom_worker_turns TO service_role;

-- A manager's load is counted at claim time, not heartbeat time.
CREATE INDEX IF NOT EXISTS idx_workers_active_manager
  ON public.workflow_workers ((metadata->>'manager_id'))
  WHERE status IN ('starting', 'running');

-- The live manager that should start the project's worker: the one with the fewest
-- projects (active workers, and turns it holds); among equals, a hash of manager and
-- project spreads projects evenly and every manager computes the same answer. NULL when
-- no manager is live.
CREATE OR REPLACE FUNCTION public.least_loaded_manager(p_project_id UUID, p_stale_s DOUBLE PRECISION)
RETURNS VARCHAR
LANGUAGE sql STABLE
SET search_path = public
AS $$
  SELECT m.manager_id
  FROM public.runloom_managers AS m
  WHERE m.last_heartbeat >= NOW() - make_interval(secs => p_stale_s)
  ORDER BY (
      SELECT count(DISTINCT held.project_id) FROM (
        SELECT w.project_id FROM public.workflow_workers AS w
        WHERE w.status IN ('starting', 'running') AND w.metadata->>'manager_id' = m.manager_id
        UNION ALL
        SELECT t.project_id FROM public.runloom_worker_turns AS t
        WHERE t.manager_id = m.manager_id
          AND t.taken_at >= NOW() - make_interval(secs => p_stale_s)
      ) AS held
    ),
    md5(m.manager_id || p_project_id::text)
  LIMIT 1
$$;

-- Whose turn it is to start the project's worker: a turn still held, or else the least
-- loaded live manager; when that is the caller, the turn becomes its own. One caller at a
-- time, so that concurrent picks see each other's turns.
CREATE OR REPLACE FUNCTION public.take_worker_turn(
  p_project_id UUID, p_manager_id VARCHAR, p_stale_s DOUBLE PRECISION
)
RETURNS VARCHAR
LANGUAGE plpgsql
SET search_path = public
AS $$
DECLARE
  v_pick VARCHAR;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('runloom_worker_turns'));
  SELECT t.manager_id INTO v_pick FROM public.runloom_worker_turns AS t
  WHERE t.project_id = p_project_id
    AND t.taken_at >= NOW() - make_interval(secs => p_stale_s)
    AND EXISTS (
      SELECT 1 FROM public.runloom_managers AS m
      WHERE m.manager_id = t.manager_id
        AND m.last_heartbeat >= NOW() - make_interval(secs => p_stale_s)
    );
  IF FOUND THEN
    RETURN v_pick;
  END IF;
  v_pick := public.least_loaded_manager(p_project_id, p_stale_s);
  IF v_pick = p_manager_id THEN
    INSERT INTO public.runloom_worker_turns (project_id, manager_id, taken_at)
    VALUES (p_project_id, p_manager_id, clock_timestamp())
    ON CONFLICT (project_id) DO UPDATE
      SET manager_id = EXCLUDED.manager_id, taken_at = EXCLUDED.taken_at;
  END IF;
  RETURN v_pick;
END
$$;

REVOKE EXECUTE ON FUNCTION public.least_loaded_manager(UUID, DOUBLE PRECISION) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.least_loaded_manager(UUID, DOUBLE PRECISION) TO service_role;
REVOKE EXECUTE ON FUNCTION public.take_worker_turn(UUID, VARCHAR, DOUBLE PRECISION) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.take_worker_turn(UUID, VARCHAR, DOUBLE PRECISION) TO service_role;
