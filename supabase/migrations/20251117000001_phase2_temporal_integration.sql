-- Phase 2: Real Temporal Integration.
-- The seed's schema, kept as written. The only departures are the two columns of
-- workflow_compiled_code that describe the generated project: package_json becomes
-- requirements_txt and tsconfig_json becomes compiler_options_json (Python, not TypeScript).

-- 1. Projects table
CREATE TABLE IF NOT EXISTS public.projects (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name VARCHAR(255) NOT NULL,
  description TEXT,
  created_by UUID NOT NULL REFERENCES public.users(id) ON DELETE CASCADE,
  task_queue_name VARCHAR(255) NOT NULL UNIQUE, -- Generated: user_id-project_id
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  -- Future: Statistics for optimization
  total_workflow_executions BIGINT DEFAULT 0,
  total_activity_executions BIGINT DEFAULT 0,
  avg_execution_duration_ms INTEGER DEFAULT 0,
  last_execution_at TIMESTAMPTZ,

  UNIQUE(created_by, name)
);

CREATE INDEX idx_projects_task_queue ON public.projects(task_queue_name);
CREATE INDEX idx_projects_created_by ON public.projects(created_by);

-- 2. Workflow-project association
ALTER TABLE public.workflows
  ADD COLUMN IF NOT EXISTS project_id UUID REFERENCES public.projects(id) ON DELETE CASCADE;

CREATE INDEX idx_workflows_project ON public.workflows(project_id);

-- Existing workflows move into a default project of their owner.
INSERT INTO public.projects (id, name, description, created_by, task_queue_name)
SELECT owners.project_id, 'Default', 'Created for workflows that predate projects',
       owners.user_id, owners.user_id::text || '-' || owners.project_id::text
FROM (
  SELECT distinct_owners.user_id, gen_random_uuid() AS project_id
  FROM (
    SELECT DISTINCT created_by AS user_id FROM public.workflows
    WHERE project_id IS NULL AND created_by IS NOT NULL
  ) AS distinct_owners
) AS owners
ON CONFLICT (created_by, name) DO NOTHING;

UPDATE public.workflows AS w
SET project_id = p.id
FROM public.projects AS p
WHERE w.project_id IS NULL AND p.created_by = w.created_by AND p.name = 'Default';

-- 3. Compiled code storage
CREATE TABLE IF NOT EXISTS public.workflow_compiled_code (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_id UUID NOT NULL REFERENCES public.workflows(id) ON DELETE CASCADE,
  version VARCHAR(50) NOT NULL,

  -- Compiled code (stored as TEXT)
  workflow_code TEXT NOT NULL,
  activities_code TEXT NOT NULL,
  worker_code TEXT NOT NULL,
  requirements_txt TEXT NOT NULL,
  compiler_options_json TEXT NOT NULL,

  -- Metadata
  compiled_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  compiled_by UUID REFERENCES public.users(id),
  is_active BOOLEAN NOT NULL DEFAULT true,

  -- Future: Statistics for optimization
  execution_count BIGINT DEFAULT 0,
  avg_execution_duration_ms INTEGER DEFAULT 0,
  error_count BIGINT DEFAULT 0,
  last_executed_at TIMESTAMPTZ,

  UNIQUE(workflow_id, version)
);

CREATE INDEX idx_compiled_code_workflow ON public.workflow_compiled_code(workflow_id);
CREATE INDEX idx_compiled_code_active ON public.workflow_compiled_code(is_active) WHERE is_active = true;

-- 4. Worker registry
CREATE TABLE IF NOT EXISTS public.workflow_workers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  worker_id VARCHAR(255) NOT NULL UNIQUE,

  -- Link to project (one worker per user+project)
  project_id UUID NOT NULL REFERENCES public.projects(id) ON DELETE CASCADE,
  task_queue_name VARCHAR(255) NOT NULL,

  -- Worker status
  status VARCHAR(50) NOT NULL CHECK (status IN ('starting', 'running', 'stopping', 'stopped', 'failed')),
  host VARCHAR(255),
  port INTEGER,
  process_id VARCHAR(255),

  -- Lifecycle
  started_at TIMESTAMPTZ,
  stopped_at TIMESTAMPTZ,
  last_heartbeat TIMESTAMPTZ,

  -- Future: Statistics for optimization
  total_tasks_completed BIGINT DEFAULT 0,
  total_tasks_failed BIGINT DEFAULT 0,
  avg_task_duration_ms INTEGER DEFAULT 0,
  cpu_usage_percent DECIMAL(5,2),
  memory_usage_mb INTEGER,

  metadata JSONB DEFAULT '{}'::jsonb,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_workers_project ON public.workflow_workers(project_id);
CREATE INDEX idx_workers_task_queue ON public.workflow_workers(task_queue_name);
CREATE INDEX idx_workers_status ON public.workflow_workers(status);
CREATE UNIQUE INDEX idx_one_active_worker_per_project
  ON public.workflow_workers(project_id)
  WHERE status IN ('starting', 'running');

-- 5. Activity statistics
CREATE TABLE IF NOT EXISTS public.activity_statistics (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID NOT NULL REFERENCES public.projects(id) ON DELETE CASCADE,
  activity_name VARCHAR(255) NOT NULL,

  -- Statistics
  execution_count BIGINT DEFAULT 0,
  success_count BIGINT DEFAULT 0,
  failure_count BIGINT DEFAULT 0,
  avg_duration_ms INTEGER DEFAULT 0,
  p95_duration_ms INTEGER,
  p99_duration_ms INTEGER,

  -- Last updated
  last_executed_at TIMESTAMPTZ,

  -- Future: Use this to identify high-usage activities that need dedicated workers
  requires_dedicated_worker BOOLEAN DEFAULT false,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  UNIQUE(project_id, activity_name)
);

CREATE INDEX idx_activity_stats_project ON public.activity_statistics(project_id);
CREATE INDEX idx_activity_stats_high_usage ON public.activity_statistics(execution_count DESC);

-- Increment project statistics (atomic)
CREATE OR REPLACE FUNCTION increment_project_stats(
  p_project_id UUID,
  p_duration_ms INTEGER
)
RETURNS VOID AS $$
BEGIN
  UPDATE projects
  SET
    total_workflow_executions = total_workflow_executions + 1,
    avg_execution_duration_ms = (avg_execution_duration_ms * total_workflow_executions + p_duration_ms) / (total_workflow_executions + 1),
    last_execution_at = NOW()
  WHERE id = p_project_id;
END;
$$ LANGUAGE plpgsql;

-- Similar for compiled code stats
CREATE OR REPLACE FUNCTION increment_code_stats(
  p_workflow_id UUID,
  p_duration_ms INTEGER,
  p_success BOOLEAN
)
RETURNS VOID AS $$
BEGIN
  UPDATE workflow_compiled_code
  SET
    execution_count = execution_count + 1,
    avg_execution_duration_ms = (avg_execution_duration_ms * execution_count + p_duration_ms) / (execution_count + 1),
    error_count = CASE WHEN NOT p_success THEN error_count + 1 ELSE error_count END,
    last_executed_at = NOW()
  WHERE workflow_id = p_workflow_id AND is_active = true;
END;
$$ LANGUAGE plpgsql;
