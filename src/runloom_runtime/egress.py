"""Which addresses `http_request` nodes may reach.

A graph's author chooses the URL of an http node, and the request runs inside the project
worker, next to Postgres, Temporal (whose Web UI lists every tenant's runs), the runloom
API and the cloud metadata service. So by default a node may reach only public addresses:
loopback, link-local, private, carrier-grade NAT, unique-local, unspecified, multicast and
reserved addresses are refused, as are the platform's own ``host:port`` (the ``deny`` list)
even when they are public. The operator opens exceptions with ``RUNLOOM_EGRESS_ALLOW``.

This module only decides; :mod:`runloom_runtime.http` enforces the decision at connect
time, on the very address it then connects to, so DNS rebinding cannot slip past it.

One policy per process: the runloom worker calls :func:`configure` at start with the
platform's policy (deny list included). An exported project never calls it, so
:func:`current` builds the policy from its own environment (:meth:`EgressPolicy.from_env`):
exports are guarded the same way by default and opened with the same settings.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runloom_runtime.egress_rules import (
    ALLOW_SETTING,
    IPAddress,
    Network,
    Rule,
    is_ip,
    normalize_host,
    parse_allow,
    parse_rules,
)

__all__ = [
    "ALLOW_SETTING",
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_BODY_SETTING",
    "EgressDenied",
    "EgressPolicy",
    "IPAddress",
    "Resolver",
    "check_address",
    "check_scheme",
    "configure",
    "current",
    "parse_allow",
    "resolve_checked",
    "system_resolver",
]

MAX_BODY_SETTING = "RUNLOOM_HTTP_MAX_BODY_MB"
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
_MIB = 1024 * 1024
_DENY_FIELD = "EgressPolicy.deny"

# (host, port) -> the addresses to connect to, as IP literals.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class EgressDenied(Exception):
    """An http node asked for a URL or an address the policy refuses."""


# --- the policy -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EgressPolicy:
    """What http nodes of this process may reach, and how much they may read.

    ``allow`` opens addresses that are refused by default; ``deny`` lists the platform's
    own services, refused even when public and opened only by an ``allow`` entry that names
    their port (a broad ``10.0.0.0/8`` must not open Postgres by accident). ``enforce=False``
    turns every address check off (single-user installs); URL schemes and the body limit
    still apply.
    """

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    enforce: bool = True
    _allow_rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    _deny_rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("allow", "deny"):
            if isinstance(getattr(self, name), str):  # would be parsed letter by letter
                raise TypeError(f"EgressPolicy.{name} takes a tuple of entries; see parse_allow")
        # Parse once, so that a bad entry fails where the policy is built, not mid-run.
        allow_rules = parse_rules(tuple(self.allow), setting=ALLOW_SETTING)
        deny_rules = parse_rules(tuple(self.deny), setting=_DENY_FIELD)
        object.__setattr__(self, "allow", tuple(rule.text for rule in allow_rules))
        object.__setattr__(self, "deny", tuple(rule.text for rule in deny_rules))
        object.__setattr__(self, "_allow_rules", allow_rules)
        object.__setattr__(self, "_deny_rules", deny_rules)
        size = self.max_body_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"max_body_bytes must be a positive integer, got {size!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EgressPolicy:
        """The policy of an exported project: ``RUNLOOM_EGRESS_ALLOW`` and
        ``RUNLOOM_HTTP_MAX_BODY_MB`` (MiB, default 10), no deny list."""
        env = os.environ if environ is None else environ
        allow = parse_allow(env.get(ALLOW_SETTING, ""))
        raw = env.get(MAX_BODY_SETTING, "").strip()
        if not raw:
            return cls(allow=allow)
        try:
            megabytes = float(raw)
        except ValueError:
            megabytes = 0.0
        if not 0 < megabytes < 1024 * 1024:  # also refuses nan and inf
            raise ValueError(f"{MAX_BODY_SETTING} must be a positive number of MiB, got {raw!r}")
        return cls(allow=allow, max_body_bytes=max(1, int(megabytes * _MIB)))

    def to_json(self) -> dict[str, Any]:
        return {
            "allow": list(self.allow),
            "deny": list(self.deny),
            "max_body_bytes": self.max_body_bytes,
            "enforce": self.enforce,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> EgressPolicy:
        return cls(
            allow=tuple(document.get("allow", ())),
            deny=tuple(document.get("deny", ())),
            max_body_bytes=document.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
            enforce=document.get("enforce", True),
        )


_policy: EgressPolicy | None = None


def configure(policy: EgressPolicy | None) -> None:
    """Set the policy of this process (the runloom worker does, at start); ``None`` goes
    back to reading it from the environment on the next :func:`current`."""
    global _policy
    _policy = policy


def current() -> EgressPolicy:
    """The configured policy, else one read once from the environment (exports)."""
    global _policy
    if _policy is None:
        _policy = EgressPolicy.from_env()
    return _policy


# --- decisions --------------------------------------------------------------------------


def _networks(*pairs: tuple[str, str]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in pairs)


_V4_REFUSED = _networks(
    ("0.0.0.0/8", "unspecified"),  # Linux connects 0.0.0.0 to the local host
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),  # cloud metadata lives at 169.254.169.254
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("224.0.0.0/4", "multicast"),  # Python counts most of it as global
    ("240.0.0.0/4", "reserved"),
)
_V6_REFUSED = _networks(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fe80::/10", "link-local"),
    ("fc00::/7", "unique-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
    ("64:ff9b:1::/48", "local NAT64"),
    ("::/8", "reserved"),  # IPv4-compatible ::a.b.c.d, which Python counts as global
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _as_address(ip: str | IPAddress) -> IPAddress:
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the kernel sends ::ffff:a.b.c.d over IPv4
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(str(address).partition("%")[0])
    return address


def _embedded_v4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address a translating prefix (NAT64, 6to4, Teredo) would reach."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    if address.teredo is not None:
        return address.teredo[1], "Teredo"
    return None


def _refusal(address: IPAddress) -> str | None:
    """Why ``address`` is refused by default, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # Before the table: NAT64's prefix lies inside ::/8, yet maps to any IPv4 address.
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner = _refusal(embedded[0])
            return None if inner is None else f"{inner} via {embedded[1]}"
    table = _V4_REFUSED if address.version == 4 else _V6_REFUSED
    for network, reason in table:
        if address in network:
            return reason
    return None if address.is_global else "reserved"


def _target(*, host: str, address: IPAddress, port: int) -> str:
    def shown(text: str) -> str:
        return f"[{text}]" if ":" in text else text

    if not host:
        return f"{shown(str(address))}:{port}"
    if is_ip(host):  # as the URL spells it: ::ffff:127.0.0.1 stays recognisable
        return f"{shown(host)}:{port}"
    return f"{shown(host)}:{port} (address {address})"


def check_address(
    ip: str | IPAddress,
    port: int,
    *,
    host: str,
    policy: EgressPolicy,
    platform_ips: Collection[IPAddress] = (),
) -> None:
    """Raise :class:`EgressDenied` unless an http node may connect to ``ip``:``port``.

    ``host`` is the URL's host (a name or the address itself): name entries of the allow
    and deny lists match it. ``platform_ips`` are the addresses the deny list's host names
    resolve to on this port (see :func:`resolve_checked`).
    """
    if not policy.enforce:
        return
    address = _as_address(ip)
    name = normalize_host(host)
    target = _target(host=name, address=address, port=port)
    allowed = [r for r in policy._allow_rules if r.matches(address=address, port=port, host=name)]
    denied = address in platform_ips or any(
        rule.matches(address=address, port=port, host=name) for rule in policy._deny_rules
    )
    if denied:
        if any(rule.port is not None for rule in allowed):
            return
        raise EgressDenied(
            f"http node may not reach {target} (platform address): runloom's own services "
            f"are refused; list it with its port in {ALLOW_SETTING} to allow it"
        )
    if allowed:
        return
    reason = _refusal(address)
    if reason is not None:
        raise EgressDenied(
            f"http node may not reach {target} ({reason}): only public addresses are "
            f"allowed by default; list it in {ALLOW_SETTING} to allow it"
        )


def check_scheme(scheme: str) -> None:
    """Only http and https: anything else (``file:``, ``ftp:``...) is refused."""
    if not scheme:
        raise EgressDenied("http node URLs must start with http:// or https://")
    if scheme.lower() not in ("http", "https"):
        raise EgressDenied(f"http node may only fetch http:// and https:// URLs, not {scheme}:")


# --- resolution -------------------------------------------------------------------------


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """The addresses of ``host``, through the system resolver (an IP literal as is)."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


async def _platform_ips(
    *, host: str, port: int, policy: EgressPolicy, resolver: Resolver
) -> frozenset[IPAddress]:
    """Addresses of deny-list names on this port, so that an IP literal or another name
    for the same service is refused too. A name that does not resolve fails the request
    (retryably): skipping it would let the platform's address through unchecked."""
    names = {
        rule.name
        for rule in policy._deny_rules
        if rule.name is not None and rule.name != host and rule.port in (None, port)
    }
    found: set[IPAddress] = set()
    for name in sorted(names):
        try:
            found.update(_as_address(ip) for ip in await resolver(name, port))
        except (OSError, ValueError) as err:
            raise OSError(
                f"cannot check {host}:{port}: platform address {name} does not resolve ({err})"
            ) from err
    return frozenset(found)


async def resolve_checked(
    host: str, port: int, *, policy: EgressPolicy, resolver: Resolver = system_resolver
) -> tuple[str, ...]:
    """Resolve ``host`` once and check every address it has; return them all.

    The caller must connect to one of these addresses, never resolve again: a second
    answer could be another address (DNS rebinding). Refusing when any address is refused
    keeps a name from mixing a public address with a private one.
    """
    name = normalize_host(host)
    try:  # the host as the URL spells it: "svc." and "svc" may differ by search domain
        addresses = tuple(await resolver(host.strip("[]"), port))
    except OSError as err:
        raise OSError(f"cannot resolve {host}: {err}") from err
    if not addresses:
        raise OSError(f"cannot resolve {host}: no address")
    if not policy.enforce:
        return addresses
    platform = await _platform_ips(host=name, port=port, policy=policy, resolver=resolver)
    for ip in addresses:
        check_address(ip, port, host=name, policy=policy, platform_ips=platform)
    return addresses
