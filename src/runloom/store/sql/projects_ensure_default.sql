INSERT INTO public.projects (id, name, description, created_by, task_queue_name)
SELECT %(id)s, 'Default', 'Your first project', %(created_by)s, %(task_queue_name)s
WHERE NOT EXISTS (SELECT 1 FROM public.projects WHERE created_by = %(created_by)s)
ON CONFLICT DO NOTHING
