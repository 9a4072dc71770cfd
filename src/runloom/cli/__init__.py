"""The `runloom` command line: operating commands (runloom.cli.ops) and commands for
people using runloom through its HTTP API (runloom.cli.user, over runloom.cli.client)."""

from runloom.cli import user
from runloom.cli.ops import app

user.register(app)

__all__ = ["app"]
