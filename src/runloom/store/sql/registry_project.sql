SELECT id, task_queue_name, is_active FROM public.projects WHERE id = %(project_id)s
