"""The seccomp program, checked by running it on a tiny classic-BPF interpreter."""

from __future__ import annotations

import errno
import struct

import pytest

from runloom.sandbox import seccomp
from runloom.sandbox.errors import SandboxError

X86 = seccomp.ARCHES["x86_64"]
ARM = seccomp.ARCHES["aarch64"]
ALLOW = seccomp.RET_ALLOW
EPERM = seccomp.RET_ERRNO | errno.EPERM
ENOSYS = seccomp.RET_ERRNO | errno.ENOSYS
KILL = seccomp.RET_KILL_PROCESS


def decide(program: bytes, *, arch: int, nr: int, args: tuple[int, ...] = ()) -> int:
    """What the kernel would return for this call (classic BPF as seccomp accepts it)."""
    words = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    padded = (tuple(args) + (0,) * 6)[:6]
    data = struct.pack("=iIQ6Q", nr, arch, 0, *padded)
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = words[pc]
        pc += 1
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("=I", data, k)[0]
        elif code == 0x54:  # and #k
            acc &= k
        elif code in (0x15, 0x35, 0x45):  # jeq, jge, jset
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf
        elif code == 0x06:  # ret #k
            return int(k)
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


@pytest.fixture(scope="module")
def x86() -> bytes:
    return seccomp.build_filter(X86)


def test_program_is_whole_instructions_within_the_kernel_limit(x86: bytes) -> None:
    assert len(x86) % 8 == 0
    count = len(x86) // 8
    assert 60 < count < 4096  # BPF_MAXINSNS
    # Deterministic: the same bytes every time, so a change shows up in review.
    assert seccomp.build_filter(X86) == x86


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ptrace", ()),
        ("mount", ()),
        ("unshare", (0x10000000,)),
        ("setns", ()),
        ("bpf", ()),
        ("keyctl", ()),
        ("init_module", ()),
        ("process_vm_readv", ()),
        ("io_uring_setup", ()),
        ("userfaultfd", ()),
    ],
)
def test_dangerous_calls_fail_with_eperm(x86: bytes, name: str, args: tuple[int, ...]) -> None:
    assert decide(x86, arch=X86.audit, nr=X86.numbers[name], args=args) == EPERM


@pytest.mark.parametrize("nr", [0, 1, 2, 3, 9, 39, 60, 202, 231, 257])  # read ... openat
def test_ordinary_calls_pass(x86: bytes, nr: int) -> None:
    assert decide(x86, arch=X86.audit, nr=nr) == ALLOW


def test_clone_threads_and_forks_pass_but_not_new_namespaces(x86: bytes) -> None:
    clone = X86.numbers["clone"]
    thread_flags = 0x3D0F00  # what glibc's pthread_create passes
    fork_flags = 0x01200011  # CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
    assert decide(x86, arch=X86.audit, nr=clone, args=(thread_flags,)) == ALLOW
    assert decide(x86, arch=X86.audit, nr=clone, args=(fork_flags,)) == ALLOW
    assert decide(x86, arch=X86.audit, nr=clone, args=(fork_flags | 0x10000000,)) == EPERM
    assert decide(x86, arch=X86.audit, nr=clone, args=(0x40000000,)) == EPERM  # NEWNET
    assert decide(x86, arch=X86.audit, nr=X86.numbers["clone3"]) == ENOSYS


def test_without_processes_only_threads_may_be_created() -> None:
    program = seccomp.build_filter(X86, allow_processes=False)
    clone = X86.numbers["clone"]
    assert decide(program, arch=X86.audit, nr=clone, args=(0x3D0F00,)) == ALLOW
    assert decide(program, arch=X86.audit, nr=clone, args=(0x01200011,)) == EPERM
    assert decide(program, arch=X86.audit, nr=X86.numbers["fork"]) == EPERM
    assert decide(program, arch=X86.audit, nr=X86.numbers["vfork"]) == EPERM


@pytest.mark.parametrize(
    ("domain", "kind", "expected"),
    [
        (1, 1, ALLOW),  # AF_UNIX stream: asyncio's self-pipe
        (1, 2 | 0x80000, ALLOW),  # AF_UNIX dgram, SOCK_CLOEXEC
        (2, 1, EPERM),  # AF_INET: no network
        (10, 2, EPERM),  # AF_INET6
        (17, 3, EPERM),  # AF_PACKET
        (16, 3, EPERM),  # AF_NETLINK
        (1, 3, EPERM),  # SOCK_RAW, whatever the family
    ],
)
def test_socket_families(x86: bytes, domain: int, kind: int, expected: int) -> None:
    assert decide(x86, arch=X86.audit, nr=X86.numbers["socket"], args=(domain, kind)) == expected


def test_network_can_be_allowed() -> None:
    program = seccomp.build_filter(X86, allow_network=True)
    socket = X86.numbers["socket"]
    assert decide(program, arch=X86.audit, nr=socket, args=(2, 1)) == ALLOW
    assert decide(program, arch=X86.audit, nr=socket, args=(2, 3)) == EPERM


def test_personality_can_be_read_not_changed(x86: bytes) -> None:
    personality = X86.numbers["personality"]
    assert decide(x86, arch=X86.audit, nr=personality, args=(0xFFFFFFFF,)) == ALLOW
    assert decide(x86, arch=X86.audit, nr=personality, args=(0,)) == ALLOW
    assert decide(x86, arch=X86.audit, nr=personality, args=(0x0040000,)) == EPERM


def test_foreign_architecture_and_x32_are_killed(x86: bytes) -> None:
    assert decide(x86, arch=ARM.audit, nr=0) == KILL
    assert decide(x86, arch=0x40000003, nr=0) == KILL  # i386
    assert decide(x86, arch=X86.audit, nr=0x40000000 | 101) == KILL


def test_aarch64_uses_its_own_numbers() -> None:
    program = seccomp.build_filter(ARM)
    assert decide(program, arch=ARM.audit, nr=117) == EPERM  # ptrace
    assert decide(program, arch=ARM.audit, nr=101) == ALLOW  # nanosleep, ptrace on x86
    assert decide(program, arch=ARM.audit, nr=0x40000000) == ALLOW  # no x32 check here
    assert decide(program, arch=X86.audit, nr=0) == KILL


def test_unknown_machine_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "mips")
    with pytest.raises(SandboxError, match="mips"):
        seccomp.host_arch()
