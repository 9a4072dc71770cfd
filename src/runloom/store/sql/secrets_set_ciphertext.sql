UPDATE public.project_secrets
SET ciphertext = %(ciphertext)s
WHERE id = %(id)s
