"""A small client of runloom's HTTP API, used by the CLI's user commands."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from runloom.errors import RunloomError


class ApiError(RunloomError):
    """The API answered with an error; the message is its `detail`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def credentials_path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "runloom" / "credentials.json"


@dataclass(frozen=True, slots=True)
class Credentials:
    url: str
    access_token: str
    email: str

    def save(self) -> Path:
        path = credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"url": self.url, "access_token": self.access_token, "email": self.email})
        )
        path.chmod(0o600)
        return path

    @classmethod
    def load(cls) -> Credentials:
        path = credentials_path()
        if not path.exists():
            raise RunloomError("not signed in: run `runloom login` first")
        data = json.loads(path.read_text())
        return cls(url=data["url"], access_token=data["access_token"], email=data["email"])


API_KEY_ENV = "RUNLOOM_API_KEY"
URL_ENV = "RUNLOOM_URL"
DEFAULT_URL = "http://127.0.0.1:8000"


def _api_key_url() -> str:
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    path = credentials_path()
    if path.exists():
        saved = json.loads(path.read_text()).get("url")
        if isinstance(saved, str) and saved:
            return saved
    return DEFAULT_URL


class RunloomClient:
    def __init__(self, *, url: str, access_token: str | None = None, timeout: float = 60) -> None:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    @classmethod
    def from_credentials(cls) -> RunloomClient:
        """`RUNLOOM_API_KEY` (for programs and CI) when set, else the saved sign-in.

        With a key, the URL is `RUNLOOM_URL`, else the saved sign-in's, else the local one.
        """
        key = os.environ.get(API_KEY_ENV, "").strip()
        if key:
            return cls(url=_api_key_url(), access_token=key)
        creds = Credentials.load()
        return cls(url=creds.url, access_token=creds.access_token)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise RunloomError(f"cannot reach runloom at {self._http.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = str(body.get("detail", response.text))
                for problem in body.get("problems", []):
                    detail += f"\n  - {problem['message']}"
            except ValueError:
                detail = response.text
            raise ApiError(response.status_code, detail)
        return response.json() if response.content else None

    def events(self, execution_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Server-sent events of an execution until it ends."""
        with self._http.stream(
            "GET", f"/api/executions/{execution_id}/events", timeout=None
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise ApiError(response.status_code, response.text)
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: ") and kind is not None:
                    yield kind, json.loads(line.removeprefix("data: "))
                    if kind == "end":
                        return
