SELECT u.id, u.email, u.created_at, c.password_hash
FROM public.users AS u
JOIN public.user_credentials AS c ON c.user_id = u.id
WHERE lower(u.email) = lower(%(email)s)
