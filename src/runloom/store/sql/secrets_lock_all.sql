SELECT id, project_id, name, ciphertext
FROM public.project_secrets
ORDER BY id
FOR UPDATE
