SELECT id, name, prefix, project_id, created_at, expires_at, last_used_at
FROM public.api_keys
WHERE revoked_at IS NULL
ORDER BY created_at DESC
