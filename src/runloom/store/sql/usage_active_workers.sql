-- Workers starting or running for the user's projects: how many serve projects other than
-- %(project_id)s, and whether that project has one already (then no new one is needed).
SELECT count(*) FILTER (WHERE r.project_id <> %(project_id)s) AS others,
       coalesce(bool_or(r.project_id = %(project_id)s), false) AS this_project
FROM public.projects AS p
JOIN public.workflow_workers AS r ON r.project_id = p.id
WHERE p.created_by = %(user_id)s AND r.status IN ('starting', 'running')
