"""The root of runloom's own exceptions; HTTP status codes are chosen only at the API edge."""

from __future__ import annotations


class RunloomError(Exception):
    """Base class of every error runloom raises on purpose."""


class ConfigurationError(RunloomError):
    """The environment asks for something that cannot work."""


class NotFoundError(RunloomError):
    """The object does not exist, or belongs to someone else (indistinguishable on purpose)."""


class ForbiddenError(RunloomError):
    """The caller is known but may not do this (e.g. an API key creating API keys)."""


class ConflictError(RunloomError):
    """The request collides with the current state (duplicate name, worker already active)."""


class InvalidRequestError(RunloomError):
    """The request is well-formed but asks for something that cannot be done."""


class QuotaExceededError(RunloomError):
    """A per-user quota would be exceeded. ``quota`` names it and ``setting`` is the
    environment variable that sets it, so that the message can say what to change."""

    def __init__(self, message: str, *, quota: str, setting: str, limit: int) -> None:
        super().__init__(message)
        self.quota = quota
        self.setting = setting
        self.limit = limit


class RateLimitedError(RunloomError):
    """Too many requests of one kind in too short a time; retry after ``retry_after_s``."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
