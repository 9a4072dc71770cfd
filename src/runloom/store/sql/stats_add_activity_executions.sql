UPDATE public.projects
SET total_activity_executions = coalesce(total_activity_executions, 0) + %(count)s
WHERE id = %(project_id)s
