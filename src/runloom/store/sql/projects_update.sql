UPDATE public.projects
SET name = coalesce(%(name)s, name),
    description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END,
    python_network = coalesce(%(python_network)s, python_network),
    updated_at = NOW()
WHERE id = %(id)s
RETURNING id
