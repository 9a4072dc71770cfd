-- Python nodes have no network unless their project turns it on; even then they reach
-- only what the egress guard of http nodes allows (no loopback, private ranges or the
-- platform's own services). Owners may change it like any other project field.
ALTER TABLE public.projects
  ADD COLUMN IF NOT EXISTS python_network BOOLEAN NOT NULL DEFAULT false;
