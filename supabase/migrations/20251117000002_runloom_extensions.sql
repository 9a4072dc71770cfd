-- What runloom adds to the Phase 2 schema: stable workflow keys (the Temporal workflow type
-- is "<key>@v<n>"), executions that know their project and node states, statistics that
-- stay exact under concurrency, and latency percentiles that can be updated atomically.

-- Workflow keys: stable across renames, unique in a project.
ALTER TABLE public.workflows ADD COLUMN IF NOT EXISTS key VARCHAR(100);
UPDATE public.workflows SET key = 'wf-' || left(replace(id::text, '-', ''), 12) WHERE key IS NULL;
ALTER TABLE public.workflows ALTER COLUMN key SET NOT NULL;
ALTER TABLE public.workflows ADD CONSTRAINT workflows_key_format
  CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,99}$');
CREATE UNIQUE INDEX IF NOT EXISTS idx_workflows_project_key ON public.workflows(project_id, key);

-- Executions: project, the Temporal coordinates runloom needs to follow a run, live node
-- states, and a mark that statistics were recorded (exactly once, whoever records them).
ALTER TABLE public.workflow_executions
  ADD COLUMN IF NOT EXISTS project_id UUID REFERENCES public.projects(id) ON DELETE CASCADE,
  ADD COLUMN IF NOT EXISTS workflow_type VARCHAR(255),
  ADD COLUMN IF NOT EXISTS task_queue_name VARCHAR(255),
  ADD COLUMN IF NOT EXISTS node_states JSONB NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN IF NOT EXISTS stats_recorded_at TIMESTAMPTZ;
UPDATE public.workflow_executions AS e SET project_id = w.project_id
FROM public.workflows AS w WHERE e.workflow_id = w.id AND e.project_id IS NULL;
CREATE INDEX IF NOT EXISTS idx_executions_project
  ON public.workflow_executions(project_id, created_at DESC);
-- The tracker's working set: only executions that are not finished.
CREATE INDEX IF NOT EXISTS idx_executions_open
  ON public.workflow_executions(status) WHERE status IN ('pending', 'running');

-- Exact averages: keep the sum and divide, instead of folding integer averages (which
-- drifts with every call).
ALTER TABLE public.projects
  ADD COLUMN IF NOT EXISTS total_execution_duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE public.workflow_compiled_code
  ADD COLUMN IF NOT EXISTS total_execution_duration_ms BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION public.increment_project_stats(
  p_project_id UUID,
  p_duration_ms INTEGER
)
RETURNS VOID
LANGUAGE sql
SET search_path = public
AS $$
  UPDATE public.projects
  SET
    total_workflow_executions = coalesce(total_workflow_executions, 0) + 1,
    total_execution_duration_ms = total_execution_duration_ms + greatest(p_duration_ms, 0),
    avg_execution_duration_ms = round(
      (total_execution_duration_ms + greatest(p_duration_ms, 0))::numeric
      / (coalesce(total_workflow_executions, 0) + 1)
    ),
    last_execution_at = NOW()
  WHERE id = p_project_id;
$$;

-- The seed's signature counts against the active version; runloom records against the
-- version that actually ran, which the four-argument form names.
CREATE OR REPLACE FUNCTION public.increment_code_stats(
  p_workflow_id UUID,
  p_duration_ms INTEGER,
  p_success BOOLEAN,
  p_version VARCHAR
)
RETURNS VOID
LANGUAGE sql
SET search_path = public
AS $$
  UPDATE public.workflow_compiled_code
  SET
    execution_count = coalesce(execution_count, 0) + 1,
    total_execution_duration_ms = total_execution_duration_ms + greatest(p_duration_ms, 0),
    avg_execution_duration_ms = round(
      (total_execution_duration_ms + greatest(p_duration_ms, 0))::numeric
      / (coalesce(execution_count, 0) + 1)
    ),
    error_count = coalesce(error_count, 0) + CASE WHEN p_success THEN 0 ELSE 1 END,
    last_executed_at = NOW()
  WHERE workflow_id = p_workflow_id
    AND (CASE WHEN p_version IS NULL THEN is_active ELSE version = p_version END);
$$;

CREATE OR REPLACE FUNCTION public.increment_code_stats(
  p_workflow_id UUID,
  p_duration_ms INTEGER,
  p_success BOOLEAN
)
RETURNS VOID
LANGUAGE sql
SET search_path = public
AS $$
  SELECT public.increment_code_stats(p_workflow_id, p_duration_ms, p_success, NULL::VARCHAR);
$$;

-- Activity latency percentiles from a log-scale histogram: bucket i holds durations in
-- [1.1^(i-1), 1.1^i) ms, so any percentile is known within 10% and every update is a single
-- atomic increment, never an overwrite.
ALTER TABLE public.activity_statistics
  ADD COLUMN IF NOT EXISTS total_duration_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS max_duration_ms INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS duration_histogram BIGINT[] NOT NULL DEFAULT array_fill(0::bigint, ARRAY[200]);

CREATE OR REPLACE FUNCTION public.duration_bucket(p_duration_ms INTEGER)
RETURNS INTEGER
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN p_duration_ms <= 1 THEN 1
              ELSE least(200, 1 + ceil(ln(p_duration_ms::numeric) / ln(1.1))::integer) END;
$$;

CREATE OR REPLACE FUNCTION public.histogram_percentile(
  p_histogram BIGINT[], p_fraction NUMERIC, p_max INTEGER
)
RETURNS INTEGER
LANGUAGE sql IMMUTABLE
AS $$
  WITH buckets AS (
    SELECT i, p_histogram[i] AS n,
           sum(p_histogram[i]) OVER (ORDER BY i) AS running,
           sum(p_histogram[i]) OVER () AS total
    FROM generate_subscripts(p_histogram, 1) AS i
  )
  SELECT least(p_max, CASE WHEN i = 1 THEN 1 ELSE round(power(1.1, i - 1))::integer END)
  FROM buckets
  WHERE total > 0 AND running >= ceil(total * p_fraction)
  ORDER BY i
  LIMIT 1;
$$;

CREATE OR REPLACE FUNCTION public.record_activity_execution(
  p_project_id UUID,
  p_activity_name VARCHAR,
  p_duration_ms INTEGER,
  p_success BOOLEAN,
  p_executed_at TIMESTAMPTZ DEFAULT NOW()
)
RETURNS VOID
LANGUAGE plpgsql
SET search_path = public
AS $$
DECLARE
  v_bucket INTEGER := public.duration_bucket(p_duration_ms);
  v_duration INTEGER := greatest(p_duration_ms, 0);
  v_id UUID;
  v_histogram BIGINT[];
  v_max INTEGER;
BEGIN
  -- The upsert takes the row lock; the percentile update below runs under it, so
  -- concurrent recorders serialise per activity and no increment is lost.
  INSERT INTO public.activity_statistics AS s (
    project_id, activity_name, execution_count, success_count, failure_count,
    avg_duration_ms, total_duration_ms, max_duration_ms, duration_histogram, last_executed_at
  )
  VALUES (
    p_project_id, p_activity_name, 1,
    CASE WHEN p_success THEN 1 ELSE 0 END, CASE WHEN p_success THEN 0 ELSE 1 END,
    v_duration, v_duration, v_duration,
    array_fill(0::bigint, ARRAY[200]),
    p_executed_at
  )
  ON CONFLICT (project_id, activity_name) DO UPDATE SET
    execution_count = coalesce(s.execution_count, 0) + 1,
    success_count = coalesce(s.success_count, 0) + CASE WHEN p_success THEN 1 ELSE 0 END,
    failure_count = coalesce(s.failure_count, 0) + CASE WHEN p_success THEN 0 ELSE 1 END,
    total_duration_ms = s.total_duration_ms + v_duration,
    avg_duration_ms = round((s.total_duration_ms + v_duration)::numeric
                            / (coalesce(s.execution_count, 0) + 1)),
    max_duration_ms = greatest(s.max_duration_ms, v_duration),
    last_executed_at = greatest(s.last_executed_at, p_executed_at),
    updated_at = NOW()
  RETURNING s.id INTO v_id;

  UPDATE public.activity_statistics
  SET duration_histogram[v_bucket] = duration_histogram[v_bucket] + 1
  WHERE id = v_id
  RETURNING duration_histogram, max_duration_ms INTO v_histogram, v_max;

  UPDATE public.activity_statistics
  SET p95_duration_ms = public.histogram_percentile(v_histogram, 0.95, v_max),
      p99_duration_ms = public.histogram_percentile(v_histogram, 0.99, v_max)
  WHERE id = v_id;
END;
$$;
