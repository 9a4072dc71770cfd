-- Managers silent for long are gone (killed, or their host lost): their rows only clutter.
DELETE FROM public.runloom_managers
WHERE last_heartbeat < NOW() - make_interval(secs => %(forget_s)s)
