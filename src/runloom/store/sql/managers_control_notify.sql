-- Tells every manager (they LISTEN on the channel) about a project that needs a worker.
SELECT pg_notify(%(channel)s, %(payload)s)
