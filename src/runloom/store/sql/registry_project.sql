SELECT id, task_queue_name, is_active, python_network, temporal_namespace FROM public.projects WHERE id = %(project_id)s
