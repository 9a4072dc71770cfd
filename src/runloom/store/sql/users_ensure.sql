INSERT INTO public.users (id, email)
VALUES (%(user_id)s, %(email)s)
ON CONFLICT DO NOTHING
