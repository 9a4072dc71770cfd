-- Projects the user owns (idx_projects_created_by).
SELECT count(*) AS n FROM public.projects WHERE created_by = %(user_id)s
