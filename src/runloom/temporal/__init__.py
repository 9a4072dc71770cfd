"""Everything runloom does with Temporal: the client, workers, tracking and statistics."""
