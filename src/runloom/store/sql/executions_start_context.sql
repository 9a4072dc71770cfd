-- Everything a start needs, in one round trip: the workflow, its project's queue, the code
-- version to run (the one asked for, else the active one), and whether a running worker
-- already serves that version (then no manager needs to be asked), and how many runs the
-- user has open (for the quota, counted no further than %(open_up_to)s), and the
-- execution timeout the version was compiled with (its graph's settings).
SELECT w.id AS workflow_id, w.key, w.project_id, p.task_queue_name, p.temporal_namespace,
       public.open_run_count(%(open_up_to)s) AS open_runs,
       c.id AS code_id, c.version,
       (c.compiler_options_json::jsonb #>> '{settings,execution_timeout_s}')::float8
         AS execution_timeout_s,
       EXISTS (
         SELECT 1 FROM public.workflow_workers AS r
         WHERE r.project_id = w.project_id AND r.status = 'running'
           AND public.worker_serves(r.metadata, w.key || '@v' || c.version)
       ) AS worker_ready
FROM public.workflows AS w
JOIN public.projects AS p ON p.id = w.project_id
LEFT JOIN public.workflow_compiled_code AS c
  ON c.workflow_id = w.id
 AND (CASE WHEN %(version)s::varchar IS NULL THEN c.is_active ELSE c.version = %(version)s::varchar END)
WHERE w.id = %(workflow_id)s
