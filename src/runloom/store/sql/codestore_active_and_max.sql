SELECT
  (SELECT max(version::integer) FROM public.workflow_compiled_code
   WHERE workflow_id = %(workflow_id)s AND version ~ '^[0-9]{1,9}$') AS max_version,
  c.id, c.version, c.workflow_code, c.activities_code, c.worker_code,
  c.requirements_txt, c.compiler_options_json
FROM (SELECT 1) AS one
LEFT JOIN public.workflow_compiled_code AS c
  ON c.workflow_id = %(workflow_id)s AND c.is_active
