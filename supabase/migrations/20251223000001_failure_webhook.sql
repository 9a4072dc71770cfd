-- A project's failure notification: when a run of the project ends failed or timed out,
-- the tracker POSTs a JSON notice to this URL (runloom.manager.notify), through the same
-- egress guard as http nodes (no loopback, private ranges or the platform's own services
-- unless RUNLOOM_EGRESS_ALLOW lists them). NULL: no notification.
--
-- Owners set it like any other project field (the projects policy decides whose row);
-- the check repeats the API's rules for writes that do not go through it (PostgREST on
-- Supabase), so the tracker only ever reads an http(s) URL of bounded length.
ALTER TABLE public.projects
  ADD COLUMN IF NOT EXISTS failure_webhook_url TEXT
    CONSTRAINT projects_failure_webhook_url_check CHECK (
      failure_webhook_url IS NULL
      OR (length(failure_webhook_url) <= 2048 AND failure_webhook_url ~* '^https?://[^/?#[:space:]]+')
    );
