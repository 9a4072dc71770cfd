-- The namespaces a user's projects were given (NULL, the shared one, left out).
SELECT DISTINCT temporal_namespace AS name
FROM public.projects
WHERE created_by = %(user_id)s AND temporal_namespace IS NOT NULL
ORDER BY name
