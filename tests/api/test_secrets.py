"""Project secrets over HTTP on the live stack: set, list, replace, delete; values go in
and never come out; names follow the pattern; other users and keys of other projects get
404; the API encrypts under the key it keeps 0600 in the data directory."""

from __future__ import annotations

import stat
import uuid
from typing import Any

import httpx
import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.settings import Settings
from runloom.store import secrets
from runloom.vault import KEY_FILE, Vault
from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project
from tests.live import LiveStack

VALUE = "sk-live-9f8e7d6c5b4a39281706"
VALUE_2 = "sk-live-second-31337"


def _path(project_id: str, name: str | None = None) -> str:
    return f"/api/projects/{project_id}/secrets" + (f"/{name}" if name else "")


def _as_key(api: Api, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api.client.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


async def test_put_list_replace_delete_and_values_never_come_back(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "secrets")
    answers: list[str] = []

    async def call(method: str, path: str, expected: int, **kw: Any) -> Any:
        response = await api.client.request(method, path, **kw)
        answers.append(response.text)
        assert response.status_code == expected, (response.status_code, response.text)
        return response.json() if response.content else None

    put = await call("PUT", _path(project["id"], "TOKEN"), 200, json={"value": VALUE})
    assert set(put) == {"secret"}
    assert set(put["secret"]) == {"name", "created_at", "updated_at"}
    assert put["secret"]["name"] == "TOKEN"
    await call("PUT", _path(project["id"], "A_FIRST"), 200, json={"value": VALUE + "-a"})
    replaced = await call("PUT", _path(project["id"], "TOKEN"), 200, json={"value": VALUE_2})
    assert replaced["secret"]["created_at"] == put["secret"]["created_at"]
    assert replaced["secret"]["updated_at"] > put["secret"]["updated_at"]

    listed = await call("GET", _path(project["id"]), 200)
    assert [s["name"] for s in listed["secrets"]] == ["A_FIRST", "TOKEN"]
    assert all(set(s) == {"name", "created_at", "updated_at"} for s in listed["secrets"])
    await call("GET", f"/api/projects/{project['id']}", 200)
    await call("GET", "/api/projects", 200)

    await call("DELETE", _path(project["id"], "TOKEN"), 204)
    await call("DELETE", _path(project["id"], "TOKEN"), 404)
    assert [s["name"] for s in (await call("GET", _path(project["id"]), 200))["secrets"]] == [
        "A_FIRST"
    ]
    for answer in answers:
        assert VALUE not in answer and VALUE_2 not in answer


@pytest.mark.parametrize("name", ["lower", "1ABC", "HAS-DASH", "A" * 65, "%C3%84"])
async def test_bad_names_answer_422_with_the_pattern(sign_up: SignUp, name: str) -> None:
    api = await sign_up()
    project = await new_project(api, "names")
    for method, body in (("PUT", {"value": VALUE}), ("DELETE", None)):
        response = await api.client.request(method, _path(project["id"], name), json=body)
        assert response.status_code == 422, (method, response.text)
        assert "[A-Z_][A-Z0-9_]{0,63}" in response.json()["detail"]
    assert (await api.ok("GET", _path(project["id"])))["secrets"] == []


async def test_bad_values_answer_422_without_echoing_them(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "values")
    too_long = "s3cr3t" * 11_000  # 66 000 bytes: over 64 KiB
    for body in ({"value": ""}, {"value": too_long}, {"value": 5}, {}, {"value": "x", "n": 1}):
        response = await api.put(_path(project["id"], "TOKEN"), json=body)
        assert response.status_code == 422, (body, response.text)
        assert "s3cr3ts3cr3t" not in response.text
    assert "64 KiB" in (await api.put(_path(project["id"], "T"), json={"value": too_long})).text
    biggest = {"value": "x" * (64 * 1024)}
    await api.ok("PUT", _path(project["id"], "BIG"), json=biggest)


async def test_another_users_project_is_not_found(sign_up: SignUp) -> None:
    owner, stranger = await sign_up(), await sign_up()
    project = await new_project(owner, "mine")
    await owner.ok("PUT", _path(project["id"], "TOKEN"), json={"value": VALUE})
    for pid in (project["id"], str(uuid.uuid4())):
        assert (await stranger.get(_path(pid))).status_code == 404
        put = await stranger.put(_path(pid, "TOKEN"), json={"value": "overwritten"})
        assert put.status_code == 404, put.text
        assert (await stranger.delete(_path(pid, "TOKEN"))).status_code == 404
    listed = (await owner.ok("GET", _path(project["id"])))["secrets"]
    assert [s["name"] for s in listed] == ["TOKEN"]


async def test_a_key_limited_to_another_project_gets_404(sign_up: SignUp) -> None:
    api = await sign_up()
    mine, other = await new_project(api, "scoped"), await new_project(api, "other")
    await api.ok("PUT", _path(other["id"], "TOKEN"), json={"value": VALUE})
    created = await api.ok(
        "POST", "/api/api-keys", 201, json={"name": "ci", "project_id": mine["id"]}
    )
    async with _as_key(api, created["key"]) as client:
        assert (await client.get(_path(other["id"]))).status_code == 404
        put = await client.put(_path(other["id"], "TOKEN"), json={"value": "overwritten"})
        assert put.status_code == 404
        assert (await client.delete(_path(other["id"], "TOKEN"))).status_code == 404
        own = await client.put(_path(mine["id"], "CI_TOKEN"), json={"value": VALUE})
        assert own.status_code == 200, own.text
        assert [s["name"] for s in (await client.get(_path(mine["id"]))).json()["secrets"]] == [
            "CI_TOKEN"
        ]
    assert [s["name"] for s in (await api.ok("GET", _path(other["id"])))["secrets"]] == ["TOKEN"]


async def test_the_api_encrypts_under_its_data_directory_key(
    sign_up: SignUp, live_stack: LiveStack, pool: Pool
) -> None:
    api = await sign_up()
    project = await new_project(api, "at rest")
    await api.ok("PUT", _path(project["id"], "TOKEN"), json={"value": VALUE})
    data_dir = live_stack.cwd / "data"
    assert stat.S_IMODE((data_dir / KEY_FILE).stat().st_mode) == 0o600
    vault = Vault.from_settings(
        Settings(_env_file=None, runloom_data_dir=data_dir, runloom_secrets_key=None)
    )
    async with service_session(pool) as conn:
        cur = await conn.execute(
            "SELECT ciphertext FROM public.project_secrets WHERE project_id = %s",
            (project["id"],),
        )
        row = await cur.fetchone()
        assert row is not None and VALUE.encode() not in bytes(row["ciphertext"])
        values = await secrets.read_values(conn, project_id=uuid.UUID(project["id"]), vault=vault)
    assert values == {"TOKEN": VALUE}
