SELECT user_id, email, project_id, state FROM public.api_key_principal(%(key_hash)s)
