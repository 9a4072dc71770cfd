INSERT INTO public.project_secrets (project_id, name, ciphertext)
VALUES (%(project_id)s, %(name)s, %(ciphertext)s)
ON CONFLICT (project_id, name)
DO UPDATE SET ciphertext = %(ciphertext)s, updated_at = now()
RETURNING name, created_at, updated_at
