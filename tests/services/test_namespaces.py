"""Namespaces per user: naming and mapping, settings, the database's decision, and
registration on a real Temporal dev server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from pydantic import ValidationError
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from runloom.db.migrate import migrate
from runloom.db.pool import Pool, create_pool
from runloom.db.session import Claims, service_session, user_session
from runloom.services import namespaces
from runloom.services.namespaces import NamespaceError, parse_map
from runloom.settings import Settings
from runloom.store import namespaces as store
from runloom.store import projects

USER = uuid.UUID("2b1f5c1e-8c4f-4d6e-9a53-0f3f7d6f2a10")


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# --- mapping and settings -------------------------------------------------------------


def test_the_map_reads_json_and_pairs_alike() -> None:
    as_json = parse_map(f'{{"{USER}": "acme-prod", "Ann@Example.TEST": "ann.ns"}}')
    as_pairs = parse_map(f" {str(USER).upper()} = acme-prod , Ann@Example.TEST=ann.ns ,")
    assert as_json == as_pairs == {str(USER): "acme-prod", "ann@example.test": "ann.ns"}
    assert parse_map("") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not-a-user=ns1", "'not-a-user' is neither a user id nor an e-mail"),
        (f"{USER}", f"'{USER}' is not user=namespace"),
        (f"{USER}=has space", "'has space' is not a Temporal namespace name"),
        (f"{USER}=-leading", "'-leading' is not a Temporal namespace name"),
        (f"{USER}={'n' * 256}", "is not a Temporal namespace name"),
        ('{"a@b.test": 3}', "every namespace must be a string"),
        ("{nope", "not valid JSON"),
    ],
)
def test_a_bad_map_is_refused_naming_the_setting(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="RUNLOOM_NAMESPACE_MAP") as caught:
        parse_map(text)
    assert problem in str(caught.value)


def test_settings_refuse_a_bad_map_or_prefix() -> None:
    with pytest.raises(ValidationError, match="RUNLOOM_NAMESPACE_MAP: 'x' is not user="):
        _settings(runloom_namespace_map="x")
    with pytest.raises(ValidationError, match="RUNLOOM_NAMESPACE_PREFIX: 'a b' may hold only"):
        _settings(runloom_namespace_prefix="a b")
    with pytest.raises(ValidationError, match="RUNLOOM_NAMESPACE_PREFIX"):
        _settings(runloom_namespace_prefix="p" * 220)  # with a user id, past 255
    with pytest.raises(ValidationError, match="runloom_namespace_mode"):
        _settings(runloom_namespace_mode="per_project")


def test_the_default_is_one_shared_namespace() -> None:
    settings = _settings()
    policy = namespaces.NamespacePolicy.of(settings)
    assert (policy.mode, policy.prefix, policy.mapping, policy.create) == (
        "shared",
        "runloom-",
        {},
        True,
    )


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNLOOM_NAMESPACE_MODE", "per_user")
    monkeypatch.setenv("RUNLOOM_NAMESPACE_MAP", f"{USER}=acme")
    monkeypatch.setenv("RUNLOOM_NAMESPACE_CREATE", "0")
    policy = namespaces.NamespacePolicy.of(_settings())
    assert (policy.mode, policy.mapping, policy.create) == ("per_user", {str(USER): "acme"}, False)


# --- the database decides, once ---------------------------------------------------------


@pytest.fixture
async def own_pool(empty_database_url: str) -> AsyncIterator[Pool]:
    """A database of its own: the policy is installation-wide."""
    migrate(empty_database_url)
    pool = await create_pool(empty_database_url, max_size=2, name="namespaces")
    try:
        yield pool
    finally:
        await pool.close()


async def _user(pool: Pool, email: str) -> Claims:
    user_id = uuid.uuid4()
    async with service_session(pool) as conn:
        await conn.execute("INSERT INTO public.users (id, email) VALUES (%s, %s)", (user_id, email))
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}


async def _new_project(pool: Pool, claims: Claims, name: str = "p") -> str | None:
    async with user_session(pool, claims) as conn:
        project = await projects.create_project(
            conn, user_id=uuid.UUID(claims["sub"]), name=name, description=None
        )
    return project.temporal_namespace


async def test_projects_get_the_namespace_the_policy_names(own_pool: Pool) -> None:
    mapped = await _user(own_pool, "Mapped@Example.test")
    other = await _user(own_pool, "other@example.test")
    before = await _new_project(own_pool, other, "before")  # shared mode: the default
    assert before is None
    await namespaces.publish_policy(
        own_pool,
        _settings(
            runloom_namespace_mode="per_user",
            runloom_namespace_prefix="t-",
            runloom_namespace_map="mapped@example.test=acme-prod",
        ),
    )
    assert await _new_project(own_pool, mapped) == "acme-prod"  # by e-mail, any case
    assert await _new_project(own_pool, other, "after") == f"t-{other['sub']}"
    async with service_session(own_pool) as conn:
        assert await store.user_namespaces(conn, user_id=uuid.UUID(other["sub"])) == [
            f"t-{other['sub']}"
        ]
    # Decided once: switching back leaves every project where it is.
    await namespaces.publish_policy(own_pool, _settings())
    async with user_session(own_pool, other) as conn:
        listed = {p.name: p.temporal_namespace for p in await projects.list_projects(conn)}
    assert listed == {"before": None, "after": f"t-{other['sub']}"}


async def test_no_one_chooses_a_namespace_by_writing_the_row(own_pool: Pool) -> None:
    await namespaces.publish_policy(own_pool, _settings(runloom_namespace_mode="per_user"))
    user = await _user(own_pool, "sly@example.test")
    project_id = uuid.uuid4()
    async with user_session(own_pool, user) as conn:
        await conn.execute(
            "INSERT INTO public.projects (id, name, created_by, task_queue_name,"
            " temporal_namespace) VALUES (%s, 'mine', %s, %s, 'someone-else')",
            (project_id, user["sub"], f"q-{project_id}"),
        )
        await conn.execute(
            "UPDATE public.projects SET temporal_namespace = 'someone-else' WHERE id = %s",
            (project_id,),
        )
        cur = await conn.execute(
            "SELECT temporal_namespace FROM public.projects WHERE id = %s", (project_id,)
        )
        row = await cur.fetchone()
    assert row == {"temporal_namespace": f"runloom-{user['sub']}"}


async def test_an_unmapped_user_is_refused_when_runloom_may_not_create(own_pool: Pool) -> None:
    await namespaces.publish_policy(
        own_pool,
        _settings(
            runloom_namespace_mode="per_user",
            runloom_namespace_create=False,
            runloom_namespace_map="known@example.test=known-ns",
        ),
    )
    assert await _new_project(own_pool, await _user(own_pool, "known@example.test")) == "known-ns"
    stranger = await _user(own_pool, "stranger@example.test")
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        await _new_project(own_pool, stranger)
    assert "has no Temporal namespace: RUNLOOM_NAMESPACE_MAP has no entry" in str(caught.value)
    assert "RUNLOOM_NAMESPACE_CREATE=0" in str(caught.value)


# --- Temporal: one connection, namespaces registered when missing ----------------------


def test_bound_clients_share_the_connection(temporal_client: Client) -> None:
    assert namespaces.client_for(temporal_client, None) is temporal_client
    assert namespaces.client_for(temporal_client, temporal_client.namespace) is temporal_client
    bound = namespaces.client_for(temporal_client, "elsewhere")
    assert bound.namespace == "elsewhere"
    assert bound.service_client is temporal_client.service_client
    assert namespaces.client_for(temporal_client, "elsewhere") is bound


async def test_a_missing_namespace_is_registered_and_usable_at_once(
    temporal_client: Client,
) -> None:
    name = f"runloom-test-{uuid.uuid4()}"
    # Several processes may ask at the same moment: all of them succeed.
    await asyncio.gather(
        *(namespaces.ensure_namespace(temporal_client, name, retention_days=2) for _ in range(3))
    )
    described = await temporal_client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=name)
    )
    assert described.config.workflow_execution_retention_ttl.seconds == 2 * 86400
    bound = namespaces.client_for(temporal_client, name)
    handle = await bound.start_workflow("nobody-serves-this", id="w", task_queue="q-none")
    assert (await handle.describe()).id == "w"
    await handle.terminate()
    await namespaces.ensure_namespace(temporal_client, name, retention_days=2)  # exists: fine


async def test_a_refused_registration_names_what_to_do(temporal_client: Client) -> None:
    name = f"runloom-test-{uuid.uuid4()}"
    # The dev server takes any name; a retention of nothing it refuses.
    with pytest.raises(NamespaceError, match=f"cannot create the Temporal namespace '{name}'"):
        await namespaces.ensure_namespace(temporal_client, name, retention_days=0)
    with pytest.raises(
        NamespaceError, match="RUNLOOM_NAMESPACE_MAP and RUNLOOM_NAMESPACE_CREATE=0"
    ):
        await namespaces.ensure_namespace(temporal_client, name, retention_days=0)
