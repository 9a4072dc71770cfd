-- Delivered on commit to every API process listening (runloom.services.live_events).
SELECT pg_notify(%(channel)s, payload) FROM unnest(%(payloads)s::text[]) AS payload
