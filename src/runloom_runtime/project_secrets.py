"""The project's secrets, as activities that use them see them: fetched, never compiled in.

Generated code names secrets (``{{ secrets.API_TOKEN }}``, ``secrets["API_TOKEN"]``) and
never holds their values: an activity that uses secrets calls :func:`current` once per
call, and only inside the activity, so a value appears in no graph, compiled code,
export, workflow or activity input, and no Temporal history. What the activity returns
or raises is passed through :func:`redact` before Temporal records it.

Where values come from is the *provider*:

* in a runloom worker, the manager's answer over the worker's pipe (installed with
  :func:`set_provider`), read afresh on every call so a changed secret is used by the
  next run without a restart;
* anywhere else (an exported project's ``worker.py``, tests), environment variables
  ``RUNLOOM_SECRET_<NAME>``: ``RUNLOOM_SECRET_API_TOKEN=... python worker.py``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from temporalio.exceptions import ApplicationError

__all__ = [
    "ENV_PREFIX",
    "MIN_REDACTED_LENGTH",
    "REDACTED",
    "Provider",
    "current",
    "from_environment",
    "redact",
    "redact_text",
    "redacting",
    "set_provider",
]

ENV_PREFIX = "RUNLOOM_SECRET_"
REDACTED = "***"
# Values shorter than this are not redacted: replacing every "1" or "on" in a step's
# output would mangle unrelated data everywhere, and hiding a value that short protects
# nothing (it is guessed in a few tries). Secrets worth the name are longer.
MIN_REDACTED_LENGTH = 4

Provider = Callable[[], Awaitable[Mapping[str, str]]]
"""``await provider()`` returns every secret of the project, name -> value."""

_provider: Provider | None = None


def set_provider(provider: Provider | None) -> None:
    """Take secrets from ``provider`` from now on (process-wide); None: the environment."""
    global _provider  # one source of secrets per worker process, by design
    _provider = provider


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secrets from ``RUNLOOM_SECRET_<NAME>`` variables (of ``os.environ`` by default)."""
    environ = os.environ if environ is None else environ
    return {
        name[len(ENV_PREFIX) :]: value
        for name, value in environ.items()
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX)
    }


async def current() -> Mapping[str, str]:
    """Every secret of the project now, read-only: from the provider, else the environment."""
    provider = _provider
    values = from_environment() if provider is None else await provider()
    return MappingProxyType(dict(values))


def _redactable(known: Mapping[str, str]) -> list[str]:
    # Longest first: a secret that contains another is replaced whole, not in pieces.
    values = {v for v in known.values() if isinstance(v, str) and len(v) >= MIN_REDACTED_LENGTH}
    return sorted(values, key=lambda v: (-len(v), v))


def redact_text(text: str, known: Mapping[str, str]) -> str:
    """``text`` with every occurrence of a value of ``known`` replaced by ``***``."""
    for value in _redactable(known):
        text = text.replace(value, REDACTED)
    return text


def redact(value: Any, known: Mapping[str, str]) -> Any:
    """``value`` (JSON data: strings, numbers, lists, tuples, dicts) with every occurrence of
    a secret's value in any string, dict keys included, replaced by ``***``. Values shorter
    than :data:`MIN_REDACTED_LENGTH` are left (see there). Other values pass unchanged."""
    values = _redactable(known)
    if not values:
        return value
    return _redact(value, values)


def _redact(value: Any, values: list[str]) -> Any:
    if isinstance(value, str):
        for secret in values:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {_redact(k, values): _redact(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v, values) for v in value]
    return value


@contextlib.contextmanager
def redacting(
    known: Mapping[str, str], *, final: tuple[type[Exception], ...] = ()
) -> Iterator[None]:
    """Re-raise whatever the block raises as an ``ApplicationError`` whose message and
    details are redacted, and with no cause: Temporal records a cause's message and
    details too. An ``ApplicationError`` keeps its type and retry decision; an exception
    of a ``final`` class is not retried; any other exception is, as Temporal would."""
    try:
        yield
    except ApplicationError as err:
        raise ApplicationError(
            redact_text(err.message, known),
            *redact(list(err.details), known),
            type=err.type,
            non_retryable=err.non_retryable,
            next_retry_delay=err.next_retry_delay,
        ) from None
    except Exception as err:
        raise ApplicationError(
            redact_text(f"{type(err).__name__}: {err}", known),
            type=type(err).__name__,
            non_retryable=isinstance(err, final),
        ) from None
