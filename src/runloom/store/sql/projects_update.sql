UPDATE public.projects
SET name = coalesce(%(name)s, name),
    description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END,
    python_network = coalesce(%(python_network)s, python_network),
    failure_webhook_url = CASE WHEN %(set_failure_webhook_url)s THEN %(failure_webhook_url)s
                               ELSE failure_webhook_url END,
    updated_at = NOW()
WHERE id = %(id)s
RETURNING id
