SELECT c.id, c.workflow_id, w.key AS workflow_key, w.project_id, c.version, c.is_active,
       c.workflow_code, c.activities_code, c.worker_code, c.requirements_txt,
       c.compiler_options_json, c.compiled_at, c.compiled_by
FROM public.workflow_compiled_code AS c
JOIN public.workflows AS w ON w.id = c.workflow_id
WHERE c.workflow_id = %(workflow_id)s
  AND (CASE WHEN %(version)s::varchar IS NULL THEN c.is_active
            ELSE c.version = %(version)s::varchar END)
