"""`mount_ui` serves the built SPA without ever shadowing the API."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from runloom.api.static import mount_ui


def make_app(static_dir: Path, *, ui_first: bool) -> FastAPI:
    app = FastAPI()
    if ui_first:
        mount_ui(app, static_dir=static_dir)

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"database": "ok"}

    if not ui_first:
        mount_ui(app, static_dir=static_dir)
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    # httpx over ASGI: starlette's TestClient warns (warnings are errors here).
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ui.test")


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


@pytest.mark.parametrize("ui_first", [True, False])
async def test_api_routes_win_whatever_the_order(build: Path, ui_first: bool) -> None:
    client = client_for(make_app(build, ui_first=ui_first))
    assert (await client.get("/api/health")).json() == {"database": "ok"}
    assert (await client.get("/api/nope")).status_code == 404
    assert (await client.get("/api/nope")).headers["content-type"].startswith("application/json")
    # Webhooks are the API's too: a GET there is a 404 or 405, never the app's page.
    assert (await client.get("/hooks/x")).headers["content-type"].startswith("application/json")
    assert (await client.get("/openapi.json")).json()["openapi"]
    assert "swagger" in (await client.get("/docs")).text.lower()


async def test_client_routes_fall_back_to_index(build: Path) -> None:
    client = client_for(make_app(build, ui_first=False))
    for path in ["/", "/projects", "/workflows/42", "/workflows/42/versions?x=1", "/apiary"]:
        r = await client.get(path)
        assert r.status_code == 200, path
        assert "<div id=root>" in r.text
        assert r.headers["cache-control"] == "no-cache"


async def test_files_of_the_build_are_served(build: Path) -> None:
    client = client_for(make_app(build, ui_first=False))
    js = await client.get("/assets/index-abc.js")
    assert js.text == "console.log(1)"
    assert "immutable" in js.headers["cache-control"]
    assert (await client.get("/favicon.svg")).text == "<svg/>"
    assert (await client.get("/assets/index-old.js")).status_code == 404


async def test_no_escape_from_the_build(build: Path) -> None:
    (build.parent / "secret.txt").write_text("secret")
    client = client_for(make_app(build, ui_first=False))
    r = await client.get("/..%2Fsecret.txt")
    assert "secret" not in r.text


async def test_missing_build_says_what_to_do(tmp_path: Path) -> None:
    client = client_for(make_app(tmp_path / "static", ui_first=False))
    r = await client.get("/")
    assert r.status_code == 200
    assert "make ui" in r.text
    assert (await client.get("/projects")).text == r.text
    assert (await client.get("/api/health")).json() == {"database": "ok"}


def test_every_font_size_is_on_the_type_scale() -> None:
    """One type scale: the stylesheet sizes text only through its --text-* variables."""
    css = (Path(__file__).resolve().parents[2] / "ui" / "src" / "styles.css").read_text()
    scale = dict(re.findall(r"(--text-[a-z0-9]+):\s*(\d+)px;", css))
    assert len(scale) >= 5 and sorted(map(int, scale.values())) == sorted(
        set(map(int, scale.values()))
    )
    sizes = re.findall(r"font-size:\s*([^;}\n]+)", css)
    off_scale = [s for s in sizes if not re.fullmatch(r"var\((--text-[a-z0-9]+)\)", s.strip())]
    assert off_scale == [], f"font sizes off the type scale: {off_scale}"
    used = {s.strip()[len("var(") : -1] for s in sizes}
    assert used <= set(scale), used - set(scale)
