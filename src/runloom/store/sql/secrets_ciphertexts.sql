SELECT name, ciphertext
FROM public.project_secrets
WHERE project_id = %(project_id)s
ORDER BY name
