-- Tickets that open one live stream (GET /api/executions/{id}/events?ticket=...).
--
-- EventSource cannot send an Authorization header, and a login token in a URL ends up in
-- proxy and access logs. So the browser first asks, with its header, for a ticket: 32
-- random bytes, of which only the SHA-256 is kept here, bound to the user and one
-- execution, valid 30 s and redeemed once (the redeeming DELETE removes it). They live in
-- Postgres rather than in one API process's memory so that any API process behind a load
-- balancer can redeem a ticket another one issued.
--
-- Only the API, as the service role, reads or writes them: the table is not the user's.

CREATE TABLE IF NOT EXISTS public.stream_tickets (
  ticket_hash TEXT PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  execution_id UUID NOT NULL REFERENCES public.workflow_executions (id) ON DELETE CASCADE,
  -- who redeems it: the principal that asked for it (an API key's project limit included)
  principal JSONB NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_stream_tickets_expires ON public.stream_tickets (expires_at);

ALTER TABLE public.stream_tickets ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.stream_tickets FROM anon, authenticated;
GRANT ALL ON public.stream_tickets TO service_role;
