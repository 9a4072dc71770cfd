"""The root of runloom's own exceptions; HTTP status codes are chosen only at the API edge."""

from __future__ import annotations


class RunloomError(Exception):
    """Base class of every error runloom raises on purpose."""


class ConfigurationError(RunloomError):
    """The environment asks for something that cannot work."""


class NotFoundError(RunloomError):
    """The object does not exist, or belongs to someone else (indistinguishable on purpose)."""


class ConflictError(RunloomError):
    """The request collides with the current state (duplicate name, worker already active)."""


class InvalidRequestError(RunloomError):
    """The request is well-formed but asks for something that cannot be done."""
