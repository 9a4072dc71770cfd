UPDATE public.workflows
SET name = coalesce(%(name)s, name),
    description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END,
    graph = coalesce(%(graph)s, graph),
    updated_at = NOW()
WHERE id = %(id)s
RETURNING id
