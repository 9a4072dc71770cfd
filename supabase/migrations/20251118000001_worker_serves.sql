-- Whether a worker registry row's metadata says it serves a workflow type ("key@vN").
-- One definition for every query that asks (the start path, the worker control wait);
-- a pure SQL function, so the planner inlines it.
CREATE OR REPLACE FUNCTION public.worker_serves(p_metadata JSONB, p_workflow_type TEXT)
RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE
AS $$
  SELECT p_workflow_type IS NULL
      OR coalesce(p_metadata -> 'loaded', '[]'::jsonb) ? p_workflow_type;
$$;

GRANT EXECUTE ON FUNCTION public.worker_serves(JSONB, TEXT) TO authenticated, service_role;
