INSERT INTO public.workflows (id, project_id, name, key, description, graph, created_by)
VALUES (%(id)s, %(project_id)s, %(name)s, %(key)s, %(description)s, %(graph)s, %(created_by)s)
ON CONFLICT (project_id, key) DO NOTHING
RETURNING id
