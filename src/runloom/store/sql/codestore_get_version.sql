SELECT id, version, workflow_code, activities_code, worker_code,
       requirements_txt, compiler_options_json, is_active
FROM public.workflow_compiled_code
WHERE workflow_id = %(workflow_id)s AND version = %(version)s
