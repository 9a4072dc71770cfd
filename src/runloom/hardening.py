"""Process hardening: keep platform processes unreadable, and workers without privileges.

Two Linux mechanisms, both through `prctl(2)`/`capset(2)` via ctypes (no extra dependency):

* A non-dumpable process's `/proc/<pid>/environ`, `mem`, `maps`, fds, and ptrace attach are
  refused to every process lacking CAP_SYS_PTRACE, even under the same uid. The API and the
  worker manager hold the database URL and the JWT secret in their environment and memory.
* A project worker run as root still has uid 0, but without capabilities uid 0 cannot
  bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), ptrace or read the
  environment of other processes (CAP_SYS_PTRACE, and the kernel's rule that a tracer's
  permitted set must contain its target's), change uid, load modules, and so on.

Elsewhere than Linux both functions do nothing: there is no such interface to call.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path

from runloom.errors import RunloomError

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

CAP_SETPCAP = 8
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Root gains no capabilities on execve or setuid, and these bits can never be unset again.
_SECBIT_NOROOT = 1 << 0
_SECBIT_NOROOT_LOCKED = 1 << 1
_SECBIT_NO_SETUID_FIXUP = 1 << 2
_SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 3
_SECBIT_KEEP_CAPS_LOCKED = 1 << 5
_SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6
_SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 7
_LOCKED_SECUREBITS = (
    _SECBIT_NOROOT
    | _SECBIT_NOROOT_LOCKED
    | _SECBIT_NO_SETUID_FIXUP
    | _SECBIT_NO_SETUID_FIXUP_LOCKED
    | _SECBIT_KEEP_CAPS_LOCKED
    | _SECBIT_NO_CAP_AMBIENT_RAISE
    | _SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED
)

# The highest capability number when /proc does not say (Linux 5.9+: CAP_CHECKPOINT_RESTORE).
_FALLBACK_CAP_LAST_CAP = 40


class HardeningError(RunloomError):
    """The kernel refused a hardening step; the process must not go on unhardened."""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    libc = _libc()
    libc.prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    libc.prctl.restype = ctypes.c_int
    result: int = libc.prctl(option, arg2, arg3, arg4, arg5)
    if result < 0:
        errno = ctypes.get_errno()
        raise HardeningError(f"prctl({option}) failed: {os.strerror(errno)}")
    return result


def make_non_dumpable() -> None:
    """Make this process's memory and `/proc/<pid>/environ` unreadable to other processes
    that lack CAP_SYS_PTRACE, and disable its core dumps. Inherited by fork, reset by exec."""
    if not sys.platform.startswith("linux"):
        return
    _prctl(PR_SET_DUMPABLE, 0)
    if _prctl(PR_GET_DUMPABLE) != 0:
        raise HardeningError("the process is still dumpable after PR_SET_DUMPABLE 0")


def _status_field(name: str) -> str:
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    raise HardeningError(f"/proc/self/status has no {name} field")


def _cap_last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return _FALLBACK_CAP_LAST_CAP


def _os_thread_count() -> int:
    return int(_status_field("Threads"))


CAP_SETGID = 6
CAP_SETUID = 7
CAP_SETFCAP = 31
# What a root worker keeps, and nothing more: bubblewrap, run by root, writes the uid and
# gid maps of each python runner's user namespace (mapping uid 0 takes CAP_SETFCAP), and
# the runner then becomes nobody.
SANDBOX_MAPPING_CAPS = frozenset({CAP_SETGID, CAP_SETUID, CAP_SETFCAP})


def _capset(keep: frozenset[int]) -> None:
    """Effective and permitted: exactly ``keep``; inheritable: nothing."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()  # two 32-bit words of each set, all zero but what is kept
    for cap in keep:
        word, bit = divmod(cap, 32)
        data[word].effective |= 1 << bit
        data[word].permitted |= 1 << bit
    libc = _libc()
    libc.capset.argtypes = [ctypes.POINTER(_CapHeader), ctypes.POINTER(_CapData)]
    libc.capset.restype = ctypes.c_int
    if libc.capset(ctypes.byref(header), data) != 0:
        errno = ctypes.get_errno()
        raise HardeningError(f"capset failed: {os.strerror(errno)}")


def drop_capabilities(*, keep: frozenset[int] = frozenset()) -> None:
    """Give up every capability of this process but ``keep`` for good; call it first thing,
    before any thread starts (capabilities belong to each thread, so a thread started
    earlier would keep them: this refuses to run then).

    Clears the ambient set, locks the securebits that stop root regaining capabilities on
    exec or setuid, empties the bounding set (PR_CAPBSET_DROP 0..cap_last_cap), sets
    no_new_privs, and empties the effective, permitted and inheritable sets with capset.
    A process that lacks CAP_SETPCAP cannot change its bounding set or securebits; with
    no_new_privs and empty permitted sets it gains nothing from exec either way.
    Raises HardeningError if any capability is left afterwards.
    """
    if not sys.platform.startswith("linux"):
        return
    if threading.active_count() > 1 or _os_thread_count() > 1:
        raise HardeningError(
            "drop_capabilities() must run before any other thread starts; "
            f"this process has {_os_thread_count()} threads"
        )
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    permitted = int(_status_field("CapPrm"), 16)
    # What is not held cannot be kept (capset would refuse it).
    keep = frozenset(cap for cap in keep if permitted & (1 << cap))
    can_setpcap = bool(int(_status_field("CapEff"), 16) & (1 << CAP_SETPCAP))
    if can_setpcap and not keep:
        # Only a process that keeps nothing locks root out of capabilities on exec; one
        # that keeps some (a root worker's sandbox needs them in the bwrap it execs)
        # relies on the bounding set instead.
        _prctl(PR_SET_SECUREBITS, _LOCKED_SECUREBITS)
    if can_setpcap:
        for cap in range(_cap_last_cap() + 1):
            try:
                in_bounding_set = _prctl(PR_CAPBSET_READ, cap) == 1
            except HardeningError:
                continue  # a capability this kernel does not know
            if in_bounding_set and cap not in keep:
                _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)

    _capset(keep)

    kept = sum(1 << cap for cap in keep)
    left = {name: int(_status_field(name), 16) for name in ("CapInh", "CapAmb")}
    left |= {name: int(_status_field(name), 16) & ~kept for name in ("CapPrm", "CapEff")}
    if can_setpcap:
        left["CapBnd"] = int(_status_field("CapBnd"), 16) & ~kept
    if any(left.values()):
        raise HardeningError(f"capabilities remain after dropping them: {left}")
    if _status_field("NoNewPrivs") != "1":
        raise HardeningError("no_new_privs is not set after PR_SET_NO_NEW_PRIVS")
