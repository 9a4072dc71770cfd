"""The project worker process."""
