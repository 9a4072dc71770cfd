INSERT INTO public.workflow_compiled_code (
  workflow_id, version, workflow_code, activities_code, worker_code,
  requirements_txt, compiler_options_json, compiled_by, is_active, graph
)
VALUES (
  %(workflow_id)s, %(version)s, %(workflow_code)s, %(activities_code)s, %(worker_code)s,
  %(requirements_txt)s, %(compiler_options_json)s, %(compiled_by)s, true, %(graph)s
)
RETURNING id
