INSERT INTO public.api_keys (user_id, project_id, name, prefix, key_hash, expires_at)
VALUES (%(user_id)s, %(project_id)s, %(name)s, %(prefix)s, %(key_hash)s, %(expires_at)s)
RETURNING id, name, prefix, project_id, created_at, expires_at, last_used_at
