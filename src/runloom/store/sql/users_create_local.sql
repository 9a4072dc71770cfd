WITH new_user AS (
  INSERT INTO public.users (email) VALUES (%(email)s)
  RETURNING id, email, created_at
), credentials AS (
  INSERT INTO public.user_credentials (user_id, password_hash)
  SELECT id, %(password_hash)s FROM new_user
)
SELECT id, email, created_at FROM new_user
