"""Serving the single-page app built from `ui/` (`make ui` writes it to `runloom/static/`).

Every GET that is not the API's own (`/api/...`, `/hooks/...`, `/docs`, `/redoc`,
`/openapi.json`) answers a file of the build when one matches, else `index.html`, so that
client-side routes such as `/workflows/42` survive a reload. The build is looked up on
every request: building the UI while the server runs needs no restart, and a server
started before `make ui` explains what to do instead of answering 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor

STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"

# Paths that belong to the API. The UI route's pattern excludes them, so it can never shadow
# them, whatever the order in which routers and the UI are added to the app.
_RESERVED_PREFIXES: Final = ("api", "hooks", "docs", "redoc", "openapi.json")

MISSING_BUILD_HTML: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runloom: UI not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:38rem;margin:4rem auto;padding:0 1rem;
color:#1f2430}code{background:#eef0f4;padding:.1rem .35rem;border-radius:4px}</style></head>
<body><h1>The runloom web UI is not built</h1>
<p>The API is running (see <a href="/docs">/docs</a>), but the single-page app has not been
built into <code>src/runloom/static/</code>.</p>
<p>Run <code>make ui</code> (or <code>make up</code>, which builds it when missing) and reload
this page.</p></body></html>
"""


class _UIPathConvertor(Convertor[str]):
    """Any path that does not start with one of the API's reserved prefixes."""

    regex = r"(?!(?:" + "|".join(p.replace(".", r"\.") for p in _RESERVED_PREFIXES) + r")(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("runloom_ui_path", _UIPathConvertor())


def _resolve_file(static_dir: Path, path: str) -> Path | None:
    """The build's file at `path`, or None; never a file outside `static_dir`."""
    if not path or path.endswith("/"):
        return None
    root = static_dir.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def mount_ui(app: FastAPI, *, static_dir: Path | None = None) -> None:
    """Serve the built SPA at `/`, with `index.html` for client-side routes."""
    root = static_dir if static_dir is not None else STATIC_DIR

    async def serve_ui(path: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(MISSING_BUILD_HTML, headers={"Cache-Control": "no-store"})
        found = _resolve_file(root, path)
        if found is not None:
            # Vite fingerprints everything under assets/, so those never change.
            cache = (
                "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            )
            return FileResponse(found, headers={"Cache-Control": cache})
        if path.startswith("assets/"):
            # A missing asset is a stale page asking for an old build: answering index.html
            # with a 200 would make the browser fail on HTML parsed as JavaScript.
            return Response(status_code=404)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route(
        "/{path:runloom_ui_path}",
        serve_ui,
        methods=["GET", "HEAD"],
        include_in_schema=False,
        name="ui",
    )
