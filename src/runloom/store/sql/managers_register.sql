-- A manager's heartbeat: it is live, and may be given projects.
INSERT INTO public.runloom_managers (manager_id, host)
VALUES (%(manager_id)s, %(host)s)
ON CONFLICT (manager_id) DO UPDATE SET last_heartbeat = NOW(), host = EXCLUDED.host
