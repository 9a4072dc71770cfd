"""Platform processes keep their secrets out of reach of user code.

Process hardening is proven with real processes: a reader that dropped its capabilities
(as a root-run project worker does) tries to read other processes' environment and a
file of another uid. Each check has a control that succeeds, so a refusal shows the
mechanism at work, not a reader that cannot read anything. Never call
drop_capabilities() in the test process itself: it is irreversible.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import runloom.hardening
from runloom.errors import ConfigurationError
from runloom.settings import DEVELOPMENT_JWT_SECRET, Settings
from runloom.stack.local_secrets import (
    is_loopback_host,
    load_or_create_secret,
    refuse_public_bind_with_development_secret,
    with_local_jwt_secret,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
NOBODY = 65534

# --- process hardening --------------------------------------------------------------------

_TARGET = """
import sys
from runloom.hardening import drop_capabilities, make_non_dumpable
if "drop" in sys.argv[1:]:
    drop_capabilities()
if "non-dumpable" in sys.argv[1:]:
    make_non_dumpable()
print("ready", flush=True)
sys.stdin.read()  # until the test closes stdin
"""

_READER = """
import json, sys
from runloom.hardening import drop_capabilities
if sys.argv[1] == "drop":
    drop_capabilities()
result = {}
for path in sys.argv[2:]:
    try:
        with open(path, "rb") as file:
            result[path] = file.read().decode(errors="replace")
    except OSError as exc:
        result[path] = type(exc).__name__
print(json.dumps(result))
"""


def _as(uid: int | None) -> dict[str, Any]:
    return {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}


# runloom.hardening needs only the standard library, so any python of this version can
# import it from the source tree; the venv's may be out of reach of another uid.
_SOURCE_ROOT = str(Path(runloom.hardening.__file__).resolve().parents[1])


def _python_for(uid: int | None) -> str | None:
    """An interpreter that `uid` may run, None if there is none."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = [sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    for python in candidates:
        try:
            subprocess.run(
                [python, "-c", "import runloom.hardening"],
                env={**os.environ, "PYTHONPATH": _SOURCE_ROOT},
                cwd="/",
                check=True,
                capture_output=True,
                timeout=30,
                **_as(uid),
            )
        except (OSError, subprocess.CalledProcessError):
            continue
        return python
    return None


@contextmanager
def _target(*modes: str, canary: str, uid: int | None = None) -> Iterator[int]:
    """A python process holding `canary` in its environment; yields its pid."""
    python = _python_for(uid)
    assert python is not None
    with subprocess.Popen(
        [python, "-c", _TARGET, *modes],
        env={**os.environ, "PYTHONPATH": _SOURCE_ROOT, "RUNLOOM_TEST_CANARY": canary},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd="/",
        **_as(uid),
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            assert process.stdout.readline() == b"ready\n"
            yield process.pid
        finally:
            process.stdin.close()
            process.wait(10)


def _read(*paths: str, drop: bool = True, uid: int | None = None) -> dict[str, str]:
    """What a (capability-less) reader gets for each path: the text, or the error's name."""
    python = _python_for(uid)
    assert python is not None
    result = subprocess.run(
        [python, "-c", _READER, "drop" if drop else "keep", *paths],
        env={**os.environ, "PYTHONPATH": _SOURCE_ROOT},
        capture_output=True,
        check=True,
        cwd="/",
        timeout=30,
        **_as(uid),
    )
    answer: dict[str, str] = json.loads(result.stdout)
    return answer


@pytest.fixture
def canary() -> str:
    return f"canary-{secrets.token_hex(8)}"


def _environ(pid: int) -> str:
    return f"/proc/{pid}/environ"


@linux_only
@root_only
def test_a_worker_without_capabilities_cannot_read_the_platforms_environment(
    canary: str,
) -> None:
    # The API or manager: root, every capability, non-dumpable.
    with _target("non-dumpable", canary=canary) as platform:
        assert _read(_environ(platform)) == {_environ(platform): "PermissionError"}
        # Control: a reader that kept root's capabilities can.
        assert canary in _read(_environ(platform), drop=False)[_environ(platform)]


@linux_only
@root_only
def test_non_dumpable_is_what_hides_the_environment(canary: str) -> None:
    # Targets that dropped their capabilities too, so the only difference is dumpability.
    with (
        _target("drop", canary=canary) as dumpable,
        _target("drop", "non-dumpable", canary=canary) as hidden,
    ):
        seen = _read(_environ(dumpable), _environ(hidden))
    assert canary in seen[_environ(dumpable)]
    assert seen[_environ(hidden)] == "PermissionError"


@linux_only
@root_only
def test_non_dumpable_hides_the_environment_from_the_same_unprivileged_uid(
    canary: str,
) -> None:
    if _python_for(NOBODY) is None:
        pytest.skip(f"uid {NOBODY} cannot run a python {sys.version_info[:2]}")
    with (
        _target(canary=canary, uid=NOBODY) as dumpable,
        _target("non-dumpable", canary=canary, uid=NOBODY) as hidden,
    ):
        seen = _read(_environ(dumpable), _environ(hidden), drop=False, uid=NOBODY)
        memory = _read(f"/proc/{hidden}/mem", drop=False, uid=NOBODY)
    assert canary in seen[_environ(dumpable)]
    assert seen[_environ(hidden)] == "PermissionError"
    assert memory == {f"/proc/{hidden}/mem": "PermissionError"}


@linux_only
@root_only
def test_without_capabilities_root_cannot_read_another_uids_private_file(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    private.write_text("not yours")
    private.chmod(0o600)
    os.chown(private, NOBODY, NOBODY)
    assert _read(str(private), drop=False) == {str(private): "not yours"}  # CAP_DAC_OVERRIDE
    assert _read(str(private)) == {str(private): "PermissionError"}


@linux_only
@root_only
def test_dropping_empties_every_capability_set_for_good() -> None:
    status = _read("/proc/self/status")["/proc/self/status"]
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[name], 16) == 0, (name, fields[name])
    assert fields["NoNewPrivs"].strip() == "1"


@linux_only
def test_dropping_capabilities_refuses_once_threads_run() -> None:
    code = (
        "import threading, time\n"
        "from runloom.hardening import HardeningError, drop_capabilities\n"
        "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
        "try:\n"
        "    drop_capabilities()\n"
        "except HardeningError as exc:\n"
        "    print('refused:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert "refused: drop_capabilities() must run before any other thread" in result.stdout


@linux_only
def test_make_non_dumpable_clears_the_flag() -> None:
    code = (
        "import ctypes\n"
        "from runloom.hardening import make_non_dumpable\n"
        "libc = ctypes.CDLL(None)\n"
        "before = libc.prctl(3, 0, 0, 0, 0)\n"
        "make_non_dumpable()\n"
        "print(before, libc.prctl(3, 0, 0, 0, 0))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.split() == ["1", "0"]


# --- generated secrets ----------------------------------------------------------------------


def test_a_secret_is_created_private_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jwt.secret"
    first = load_or_create_secret(path)
    assert len(first) >= 43  # 32 random bytes, url-safe base64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert len(load_or_create_secret(tmp_path / "short", nbytes=8)) == 11
    assert sorted(p.name for p in path.parent.iterdir()) == ["jwt.secret"]  # no temp files


def test_concurrent_creators_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "jwt.secret"
    with ThreadPoolExecutor(max_workers=16) as pool:
        values = set(pool.map(lambda _: load_or_create_secret(path), range(64)))
    assert len(values) == 1
    assert path.read_text().strip() in values


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_secret_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "jwt.secret"
    path.write_text("x" * 43)
    path.chmod(mode)
    with pytest.raises(ConfigurationError) as refused:
        load_or_create_secret(path)
    assert str(path) in str(refused.value)
    assert f"chmod 600 {path}" in str(refused.value)


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jwt.secret"
    path.touch(mode=0o600)
    with pytest.raises(ConfigurationError, match="is empty"):
        load_or_create_secret(path)


@pytest.fixture
def no_jwt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUNLOOM_JWT_SECRET", "RUNLOOM_HOST", "RUNLOOM_DATA_DIR", "RUNLOOM_ENV"):
        monkeypatch.delenv(name, raising=False)


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.usefixtures("no_jwt_env")
def test_without_a_configured_secret_the_data_directorys_is_used(tmp_path: Path) -> None:
    settings = _settings(runloom_data_dir=tmp_path / "data")
    assert settings.runloom_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
    local = with_local_jwt_secret(settings)
    secret = local.runloom_jwt_secret.get_secret_value()
    assert secret != DEVELOPMENT_JWT_SECRET and len(secret) >= 32
    assert (tmp_path / "data" / "jwt.secret").read_text().strip() == secret
    assert stat.S_IMODE((tmp_path / "data" / "jwt.secret").stat().st_mode) == 0o600
    # Another process (api, manager) of the same install gets the same secret.
    again = with_local_jwt_secret(_settings(runloom_data_dir=tmp_path / "data"))
    assert again.runloom_jwt_secret.get_secret_value() == secret
    assert settings.runloom_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET  # a copy


@pytest.mark.usefixtures("no_jwt_env")
def test_a_configured_secret_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNLOOM_JWT_SECRET", "y" * 40)
    settings = with_local_jwt_secret(_settings(runloom_data_dir=tmp_path))
    assert settings.runloom_jwt_secret.get_secret_value() == "y" * 40
    assert not (tmp_path / "jwt.secret").exists()


@pytest.mark.usefixtures("no_jwt_env")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_a_loopback_bind_accepts_the_development_secret(host: str) -> None:
    assert is_loopback_host(host)
    refuse_public_bind_with_development_secret(_settings(runloom_host=host))


@pytest.mark.usefixtures("no_jwt_env")
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "runloom.example.com"])
def test_a_public_bind_refuses_the_development_secret(host: str, tmp_path: Path) -> None:
    assert not is_loopback_host(host)
    settings = _settings(runloom_host=host, runloom_data_dir=tmp_path)
    with pytest.raises(ConfigurationError) as refused:
        refuse_public_bind_with_development_secret(settings)
    message = str(refused.value)
    assert f"RUNLOOM_HOST={host}" in message and "RUNLOOM_JWT_SECRET" in message
    assert "openssl rand -hex 32" in message
    # Either fix works: a configured secret, or the generated one.
    refuse_public_bind_with_development_secret(
        settings.model_copy(update={"runloom_jwt_secret": SecretStr("z" * 40)})
    )
    refuse_public_bind_with_development_secret(with_local_jwt_secret(settings))
