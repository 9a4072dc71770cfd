-- Redeeming is deleting: a ticket opens at most one stream, even when two redeem at once.
DELETE FROM public.stream_tickets
WHERE ticket_hash = %(ticket_hash)s
RETURNING user_id, execution_id, principal, expires_at > now() AS fresh
