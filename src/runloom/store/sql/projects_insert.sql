INSERT INTO public.projects (id, name, description, created_by, task_queue_name)
VALUES (%(id)s, %(name)s, %(description)s, %(created_by)s, %(task_queue_name)s)
ON CONFLICT (created_by, name) DO NOTHING
RETURNING *
