"""The `runloom` command line: operating commands (runloom.cli.ops) and commands for
people using runloom through its HTTP API (runloom.cli.user, over runloom.cli.client), and
the secrets key (runloom.cli.secrets)."""

from runloom.cli import secrets, user
from runloom.cli.ops import app

user.register(app)
secrets.register(app)

__all__ = ["app"]
