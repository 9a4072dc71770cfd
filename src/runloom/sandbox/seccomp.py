"""The seccomp-BPF filter installed in every python-node runner, written out by hand.

The worker assembles the program and sends its bytes to the runner, which only has to
hand them to ``prctl(PR_SET_SECCOMP)``; the runner stays small and stdlib-only, and the
filter can be tested here, instruction by instruction, without a kernel.

The filter is a deny list: namespaces and bubblewrap already take the filesystem, the
network and other processes away, so what is left to refuse are the calls that attack
the kernel itself or would undo the jail (new namespaces, mounts, ptrace, modules, bpf,
io_uring, raw or netlink sockets). Refused calls fail with ``EPERM`` so that user code
sees an ordinary ``PermissionError``; a foreign architecture or the x32 ABI is killed.
"""

from __future__ import annotations

import errno
import platform
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runloom.sandbox.errors import SandboxError

__all__ = [
    "ARCHES",
    "Arch",
    "Instruction",
    "build_filter",
    "host_arch",
]

# Classic BPF opcodes (linux/filter.h).
BPF_LD_W_ABS = 0x20
BPF_JMP_JEQ_K = 0x15
BPF_JMP_JGE_K = 0x35
BPF_JMP_JSET_K = 0x45
BPF_RET_K = 0x06

RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

# Offsets in struct seccomp_data: nr, arch, instruction pointer, then six u64 arguments
# whose low halves come first on these little-endian architectures.
OFFSET_NR = 0
OFFSET_ARCH = 4


def arg_low(index: int) -> int:
    return 16 + 8 * index


# linux/sched.h: every CLONE_NEW* flag. A clone asking for one is a new namespace.
CLONE_NEW_ANY = 0x7E020080
CLONE_THREAD = 0x00010000
AF_INET = 2
AF_INET6 = 10
AF_NETLINK = 16
AF_PACKET = 17
SOCK_RAW = 3
SOCK_TYPE_MASK = 0xF
PERSONALITY_QUERY = 0xFFFFFFFF
X32_SYSCALL_BIT = 0x40000000

# Calls refused whatever their arguments (names as in the kernel's syscall tables).
DENIED = (
    "ptrace", "mount", "umount2", "unshare", "setns", "bpf", "perf_event_open",
    "kexec_load", "kexec_file_load", "keyctl", "add_key", "request_key", "init_module",
    "finit_module", "delete_module", "pivot_root", "chroot", "swapon", "swapoff", "reboot",
    "process_vm_readv", "process_vm_writev", "userfaultfd", "open_by_handle_at",
    "name_to_handle_at", "acct", "settimeofday", "clock_settime", "adjtimex",
    "clock_adjtime", "quotactl", "lookup_dcookie", "syslog", "vhangup", "fsopen",
    "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "kcmp",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "iopl", "ioperm", "uselib",
    "_sysctl",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Arch:
    name: str
    audit: int  # AUDIT_ARCH_* as the kernel reports it in seccomp_data.arch
    numbers: dict[str, int]
    x32_bit: bool  # x86_64 also accepts x32 syscalls (nr | 0x40000000) on the same arch


_X86_64 = {
    "ptrace": 101, "mount": 165, "umount2": 166, "unshare": 272, "setns": 308, "bpf": 321,
    "perf_event_open": 298, "kexec_load": 246, "kexec_file_load": 320, "keyctl": 250,
    "add_key": 248, "request_key": 249, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "pivot_root": 155, "chroot": 161, "swapon": 167, "swapoff": 168,
    "reboot": 169, "process_vm_readv": 310, "process_vm_writev": 311, "userfaultfd": 323,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "acct": 163, "settimeofday": 164,
    "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305, "quotactl": 179,
    "lookup_dcookie": 212, "syslog": 103, "vhangup": 153, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
    "mount_setattr": 442, "kcmp": 312, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "iopl": 172, "ioperm": 173, "uselib": 134, "_sysctl": 156,
    "personality": 135, "socket": 41, "clone": 56, "clone3": 435, "fork": 57, "vfork": 58,
}  # fmt: skip

# The generic table: aarch64 has no fork, vfork, iopl, ioperm, uselib or _sysctl.
_AARCH64 = {
    "ptrace": 117, "mount": 40, "umount2": 39, "unshare": 97, "setns": 268, "bpf": 280,
    "perf_event_open": 241, "kexec_load": 104, "kexec_file_load": 294, "keyctl": 219,
    "add_key": 217, "request_key": 218, "init_module": 105, "finit_module": 273,
    "delete_module": 106, "pivot_root": 41, "chroot": 51, "swapon": 224, "swapoff": 225,
    "reboot": 142, "process_vm_readv": 270, "process_vm_writev": 271, "userfaultfd": 282,
    "open_by_handle_at": 265, "name_to_handle_at": 264, "acct": 89, "settimeofday": 170,
    "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266, "quotactl": 60,
    "lookup_dcookie": 18, "syslog": 116, "vhangup": 58, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
    "mount_setattr": 442, "kcmp": 272, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "personality": 92, "socket": 198, "clone": 220, "clone3": 435,
}  # fmt: skip

ARCHES = {
    "x86_64": Arch(name="x86_64", audit=0xC000003E, numbers=_X86_64, x32_bit=True),
    "aarch64": Arch(name="aarch64", audit=0xC00000B7, numbers=_AARCH64, x32_bit=False),
}
_MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def host_arch() -> Arch:
    """The filter's architecture for this machine; ``SandboxError`` if it has none."""
    machine = platform.machine().lower()
    arch = ARCHES.get(_MACHINE_ALIASES.get(machine, machine))
    if arch is None:
        raise SandboxError(f"no seccomp filter for the {machine or 'unknown'} architecture")
    return arch


@dataclass(frozen=True)
class Instruction:
    code: int
    k: int
    jt: int | str = 0  # a label name until assembled
    jf: int | str = 0


def _ld(offset: int) -> Instruction:
    return Instruction(BPF_LD_W_ABS, offset)


def _ret(value: int) -> Instruction:
    return Instruction(BPF_RET_K, value)


def _jeq(value: int, jt: int | str = 0, jf: int | str = 0) -> Instruction:
    return Instruction(BPF_JMP_JEQ_K, value, jt, jf)


def _jset(mask: int, jt: int | str = 0, jf: int | str = 0) -> Instruction:
    return Instruction(BPF_JMP_JSET_K, mask, jt, jf)


def _argument_checks(
    arch: Arch, *, allow_processes: bool, allow_network: bool
) -> list[Instruction | str]:
    """Blocks for the calls judged by their arguments; each ends in a return."""
    nr = arch.numbers
    deny = "deny"
    out: list[Instruction | str] = [
        # clone: refuse new namespaces, and (when asked) anything but a thread.
        _jeq(nr["clone"], 0, "after_clone"),
        _ld(arg_low(0)),
        _jset(CLONE_NEW_ANY, deny, 0),
    ]
    if not allow_processes:
        out.append(_jset(CLONE_THREAD, 0, deny))
    out += [
        _ret(RET_ALLOW),
        "after_clone",
        # socket: no packet or netlink sockets, no raw sockets of any family.
        _jeq(nr["socket"], 0, "after_socket"),
        _ld(arg_low(0)),
        _jeq(AF_PACKET, deny, 0),
        _jeq(AF_NETLINK, deny, 0),
    ]
    if not allow_network:
        # The jail's network namespace reaches nothing; refusing the socket says so
        # plainly, and keeps isolation "off" without network as well.
        out += [_jeq(AF_INET, deny, 0), _jeq(AF_INET6, deny, 0)]
    out += [
        _ld(arg_low(1)),
        Instruction(0x54, SOCK_TYPE_MASK),  # BPF_ALU | BPF_AND | BPF_K
        _jeq(SOCK_RAW, deny, 0),
        _ret(RET_ALLOW),
        "after_socket",
        # personality: reading it is fine, changing the execution domain is not.
        _jeq(nr["personality"], 0, "after_personality"),
        _ld(arg_low(0)),
        _jeq(PERSONALITY_QUERY, "allow", 0),
        _jeq(0, "allow", deny),
        "after_personality",
    ]
    return out


def _program(arch: Arch, *, allow_processes: bool, allow_network: bool) -> list[Instruction | str]:
    nr = arch.numbers
    prog: list[Instruction | str] = [
        _ld(OFFSET_ARCH),
        _jeq(arch.audit, 1, 0),
        _ret(RET_KILL_PROCESS),
        _ld(OFFSET_NR),
    ]
    if arch.x32_bit:
        prog.append(Instruction(BPF_JMP_JGE_K, X32_SYSCALL_BIT, "kill", 0))
    # clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc fall
    # back to clone, whose flags it can.
    prog.append(_jeq(nr["clone3"], "enosys", 0))
    denied = [nr[name] for name in DENIED if name in nr]
    if not allow_processes:
        denied += [nr[name] for name in ("fork", "vfork") if name in nr]
    prog += [_jeq(number, "deny", 0) for number in denied]
    prog += _argument_checks(arch, allow_processes=allow_processes, allow_network=allow_network)
    prog += [
        "allow",
        _ret(RET_ALLOW),
        "deny",
        _ret(RET_ERRNO | errno.EPERM),
        "enosys",
        _ret(RET_ERRNO | errno.ENOSYS),
        "kill",
        _ret(RET_KILL_PROCESS),
    ]
    return prog


def assemble(program: Iterable[Instruction | str]) -> list[Instruction]:
    """Resolve label names into the relative jump offsets of classic BPF."""
    items = list(program)
    labels: dict[str, int] = {}
    code: list[Instruction] = []
    for item in items:
        if isinstance(item, str):
            labels[item] = len(code)
        else:
            code.append(item)

    def offset(target: int | str, index: int) -> int:
        if isinstance(target, int):
            return target
        distance = labels[target] - index - 1
        if not 0 <= distance <= 255:
            raise SandboxError(f"seccomp jump to {target!r} out of range ({distance})")
        return distance

    return [
        Instruction(ins.code, ins.k, offset(ins.jt, i), offset(ins.jf, i))
        for i, ins in enumerate(code)
    ]


def encode(program: Sequence[Instruction]) -> bytes:
    """``struct sock_filter[]`` in native byte order."""
    return b"".join(struct.pack("=HBBI", i.code, i.jt, i.jf, i.k) for i in program)


def build_filter(
    arch: Arch | None = None, *, allow_processes: bool = True, allow_network: bool = False
) -> bytes:
    """The runner's filter as bytes ready for ``prctl(PR_SET_SECCOMP)``.

    ``allow_processes=False`` also refuses new processes (threads stay allowed): used when
    the kernel would not count the runner's processes against ``RLIMIT_NPROC``.
    ``allow_network=False`` refuses IPv4 and IPv6 sockets (Unix sockets stay allowed).
    """
    program = _program(
        arch or host_arch(), allow_processes=allow_processes, allow_network=allow_network
    )
    return encode(assemble(program))
