-- A new ticket; tickets that expired unredeemed are cleared on the way.
WITH purged AS (
  DELETE FROM public.stream_tickets WHERE expires_at < now() - interval '1 minute'
)
INSERT INTO public.stream_tickets (ticket_hash, user_id, execution_id, principal, expires_at)
VALUES (%(ticket_hash)s, %(user_id)s, %(execution_id)s, %(principal)s,
        now() + make_interval(secs => %(ttl_s)s))
