UPDATE public.api_keys
SET revoked_at = now()
WHERE id = %(id)s AND revoked_at IS NULL
RETURNING id
