"""Temporal namespaces: one shared by every project, or one per user.

In ``shared`` mode (the default) every project runs in TEMPORAL_NAMESPACE. In
``per_user`` mode each user's projects run in a namespace of their own, so that a Temporal
authorizer can confine each tenant: the one RUNLOOM_NAMESPACE_MAP names for the user (by
user id or e-mail), else ``RUNLOOM_NAMESPACE_PREFIX`` + the user id, which runloom
registers when missing (unless RUNLOOM_NAMESPACE_CREATE=0, where namespaces are
provisioned outside, as in Temporal Cloud: a user the map does not name is refused).

The namespace is decided once, by the database, when a project is created (see the
migration ``*_namespace_per_user.sql``: a user could otherwise write one of their
choice), from the policy the API publishes here on start. Every run copies its project's;
NULL on either means the shared namespace. Everything that talks to Temporal about a
project or a run takes a client bound to that namespace from :func:`client_for`, which
shares the one gRPC connection of the process.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import (
    ListWorkflowExecutionsRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.errors import ConfigurationError
from runloom.store import namespaces as store

if TYPE_CHECKING:
    from runloom.settings import Settings

__all__ = [
    "NamespaceError",
    "NamespacePolicy",
    "check_setting",
    "client_for",
    "ensure_namespace",
    "parse_map",
    "prepare_user",
    "publish_policy",
]

# Namespace names as Temporal documents them (the dev server itself takes any string).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]{0,200}$")
_UUID_LENGTH = 36
_SETTING = {
    "runloom_namespace_prefix": "RUNLOOM_NAMESPACE_PREFIX",
    "runloom_namespace_map": "RUNLOOM_NAMESPACE_MAP",
}


class NamespaceError(ConfigurationError):
    """A Temporal namespace cannot be created or is not served in time: the operator's to
    fix (an HTTP 500 naming the namespace and what to do)."""


def _check_name(name: str, *, setting: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"{setting}: {name!r} is not a Temporal namespace name (letters, digits, '-', "
            "'.', '_', starting with a letter or digit, 2 to 255 characters)"
        )
    return name


def _map_key(key: str, *, setting: str) -> str:
    """A user id (normalised) or an e-mail (lower-cased)."""
    key = key.strip()
    if "@" in key:
        return key.lower()
    try:
        return str(uuid.UUID(key))
    except ValueError:
        raise ValueError(f"{setting}: {key!r} is neither a user id nor an e-mail") from None


def parse_map(text: str, *, setting: str = "RUNLOOM_NAMESPACE_MAP") -> dict[str, str]:
    """``{"<user id or e-mail>": "<namespace>", ...}`` (JSON) or ``user=namespace,...``."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{setting}: not valid JSON ({exc.msg})") from None
        if not all(isinstance(v, str) for v in raw.values()):
            raise ValueError(f"{setting}: every namespace must be a string")
        pairs = [(str(k), v) for k, v in raw.items()]
    else:
        pairs = []
        for entry in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = entry.partition("=")
            if not sep:
                raise ValueError(f"{setting}: {entry!r} is not user=namespace")
            pairs.append((key, value.strip()))
    return {
        _map_key(key, setting=setting): _check_name(value, setting=setting) for key, value in pairs
    }


def check_setting(field_name: str, value: str) -> None:
    """Settings validation: a ValueError naming the setting and what is wrong."""
    setting = _SETTING.get(field_name, field_name)
    if field_name == "runloom_namespace_prefix":
        if not _PREFIX.match(value):
            raise ValueError(
                f"{setting}: {value!r} may hold only letters, digits, '-', '.' and '_', "
                "at most 200 characters"
            )
        _check_name(value + "0" * _UUID_LENGTH, setting=setting)
    elif field_name == "runloom_namespace_map":
        parse_map(value, setting=setting)


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """How the database names a new project's namespace (published by the API on start)."""

    mode: Literal["shared", "per_user"] = "shared"
    prefix: str = "runloom-"
    mapping: dict[str, str] = field(default_factory=dict)
    create: bool = True

    @classmethod
    def of(cls, settings: Settings) -> NamespacePolicy:
        return cls(
            mode=settings.runloom_namespace_mode,
            prefix=settings.runloom_namespace_prefix,
            mapping=parse_map(settings.runloom_namespace_map),
            create=settings.runloom_namespace_create,
        )


async def publish_policy(pool: Pool, settings: Settings) -> NamespacePolicy:
    """Store this process's policy where the database's project trigger reads it."""
    policy = NamespacePolicy.of(settings)
    async with service_session(pool) as conn:
        await store.publish_policy(
            conn,
            mode=policy.mode,
            prefix=policy.prefix,
            mapping=policy.mapping,
            create=policy.create,
        )
    return policy


# Namespace-bound copies of each process-wide client: they share its connection, so a
# namespace costs no socket (temporalio clients are cheap views of a service client).
_bound: weakref.WeakKeyDictionary[Client, dict[str, Client]] = weakref.WeakKeyDictionary()


def client_for(client: Client, namespace: str | None) -> Client:
    """``client`` working in ``namespace`` (None: the shared one ``client`` is bound to)."""
    if namespace is None or namespace == client.namespace:
        return client
    copies = _bound.setdefault(client, {})
    bound = copies.get(namespace)
    if bound is None:
        config = client.config()
        config["namespace"] = namespace
        bound = copies[namespace] = Client(**config)
    return bound


async def ensure_namespace(
    client: Client, namespace: str, *, retention_days: int, within_s: float = 30.0
) -> None:
    """Register ``namespace`` unless it exists (someone else registering it at the same
    moment is fine), then wait until Temporal serves it.

    Describing the namespace succeeds as soon as it is stored, while the frontend may
    still answer "not found" to calls in it until its namespace cache refreshes; so the
    wait is on a call made in the namespace, listing at most one run.
    """
    if await _served(client, namespace):
        return
    request = RegisterNamespaceRequest(
        namespace=namespace,
        workflow_execution_retention_period=Duration(seconds=retention_days * 86400),
        description="runloom: the namespace of one user's projects",
    )
    try:
        await client.workflow_service.register_namespace(request)
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise NamespaceError(
                f"cannot create the Temporal namespace {namespace!r} ({exc.message}); create "
                "it yourself, or map users to existing ones with RUNLOOM_NAMESPACE_MAP and "
                "RUNLOOM_NAMESPACE_CREATE=0"
            ) from exc
    delay = 0.05
    try:
        async with asyncio.timeout(within_s):
            while not await _served(client, namespace):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
    except TimeoutError:
        raise NamespaceError(
            f"Temporal registered the namespace {namespace!r} but did not serve it "
            f"within {within_s:.0f} s"
        ) from None


async def _served(client: Client, namespace: str) -> bool:
    try:
        await client.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(namespace=namespace, page_size=1)
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def prepare_user(
    pool: Pool,
    connect: Callable[[], Awaitable[Client]],
    settings: Settings,
    *,
    user_id: uuid.UUID,
) -> None:
    """Make sure the namespaces the user's projects were given exist (per_user mode,
    when runloom may create them): on a user's first request to this process. Temporal
    is reached (``connect``) only then."""
    if settings.runloom_namespace_mode != "per_user" or not settings.runloom_namespace_create:
        return
    async with service_session(pool) as conn:
        names = await store.user_namespaces(conn, user_id=user_id)
    for name in names:
        await ensure_namespace(
            await connect(), name, retention_days=settings.runloom_namespace_retention_days
        )
