"""``python -m runloom.cli``."""

from runloom.cli import app

app()
