-- Namespaces of their own (per_user mode) that hold schedules: the managers serve the
-- platform queue there too. The shared namespace (NULL) is always served.
SELECT DISTINCT p.temporal_namespace AS name
FROM public.workflow_triggers AS t
JOIN public.projects AS p ON p.id = t.project_id
WHERE t.type = 'schedule' AND p.temporal_namespace IS NOT NULL
