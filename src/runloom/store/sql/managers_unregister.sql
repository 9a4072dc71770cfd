DELETE FROM public.runloom_managers WHERE manager_id = %(manager_id)s
