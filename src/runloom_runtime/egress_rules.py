"""Entries of an egress allow or deny list: ``host``, ``host:port``, an IP address,
``[v6]:port`` or a CIDR, parsed into rules (see runloom_runtime.egress)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ALLOW_SETTING",
    "IPAddress",
    "Network",
    "Rule",
    "is_ip",
    "normalize_host",
    "parse_allow",
    "parse_rules",
]

ALLOW_SETTING = "RUNLOOM_EGRESS_ALLOW"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


_HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_-]{1,63})*$")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One parsed entry: a host name or a network, on one port or on every port."""

    text: str
    name: str | None = None
    network: Network | None = None
    port: int | None = None

    def matches(self, *, address: IPAddress, port: int, host: str) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.name is not None:
            return self.name == host
        return self.network is not None and address in self.network


def normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _port(text: str, *, entry: str, setting: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{setting}: {entry!r} has no valid port (1-65535) after ':'")
    return int(text)


def _split_port(entry: str, *, setting: str) -> tuple[str, int | None]:
    """``[v6]:port``, ``[v6]``, ``host:port`` or ``host``; a bare IPv6 address has no port."""
    if entry.startswith("["):
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{setting}: {entry!r} is not a valid [IPv6]:port entry")
        return inside, _port(rest[1:], entry=entry, setting=setting) if rest else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, _port(port, entry=entry, setting=setting)
    return entry, None


def _parse_rule(entry: str, *, setting: str) -> Rule:
    text = entry.strip()
    if "/" in text:
        base = text.partition("/")[0]
        if not is_ip(base):
            raise ValueError(f"{setting}: {entry!r} is not a host, host:port or CIDR entry")
        # The versioned class, for a precise error ("'33' is not a valid netmask").
        v4 = ipaddress.ip_address(base).version == 4
        try:
            network: Network = ipaddress.IPv4Network(text) if v4 else ipaddress.IPv6Network(text)
        except ValueError as err:
            raise ValueError(f"{setting}: {entry!r} is not a valid CIDR ({err})") from None
        return Rule(text=str(network), network=network)
    try:  # a bare IPv6 address holds colons, so try it before looking for a port
        address = ipaddress.ip_address(text)
        return Rule(text=str(address), network=ipaddress.ip_network(address))
    except ValueError:
        pass
    host, port = _split_port(text, setting=setting)
    suffix = "" if port is None else f":{port}"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = normalize_host(host)
        if not _HOSTNAME.match(name):
            raise ValueError(
                f"{setting}: {entry!r} is not a host, host:port or CIDR entry"
            ) from None
        return Rule(text=name + suffix, name=name, port=port)
    shown = f"[{address}]" if address.version == 6 and port is not None else str(address)
    return Rule(text=shown + suffix, network=ipaddress.ip_network(address), port=port)


def parse_rules(entries: Sequence[str], *, setting: str) -> tuple[Rule, ...]:
    return tuple(_parse_rule(entry, setting=setting) for entry in entries)


def parse_allow(text: str, *, setting: str = ALLOW_SETTING) -> tuple[str, ...]:
    """Split a comma-separated setting into normalized entries, or raise ``ValueError``.

    An entry is ``host``, ``host:port``, an IP address, ``[IPv6]:port`` or a CIDR such as
    ``10.0.0.0/8``; the error names the bad entry and ``setting``.
    """
    entries = [part.strip() for part in text.split(",") if part.strip()]
    return tuple(rule.text for rule in parse_rules(entries, setting=setting))
