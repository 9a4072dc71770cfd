"""Egress decisions, without a socket: every address here is only ever compared."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from runloom_runtime import egress
from runloom_runtime.egress import EgressDenied, EgressPolicy, check_address

DEFAULT = EgressPolicy()
PUBLIC = "93.184.216.34"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decisions must not touch the network: any connect or lookup fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a decision test tried the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _refusal(ip: str, port: int = 80, *, host: str = "", policy: EgressPolicy = DEFAULT) -> str:
    with pytest.raises(EgressDenied) as caught:
        check_address(ip, port, host=host or ip, policy=policy)
    return str(caught.value)


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.1.2.3", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("fd00::1", "unique-local"),
        ("fc00::1", "unique-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "reserved"),
        ("::127.0.0.1", "reserved"),
        ("64:ff9b::7f00:1", "loopback via NAT64"),
        ("64:ff9b::a9fe:a9fe", "link-local via NAT64"),
        ("2002:a00:1::1", "private via 6to4"),
    ],
)
def test_refused_by_default(ip: str, reason: str) -> None:
    shown = f"[{ip}]" if ipaddress.ip_address(ip).version == 6 else ip
    assert _refusal(ip, 8233) == (
        f"http node may not reach {shown}:8233 ({reason}): only public addresses are "
        "allowed by default; list it in RUNLOOM_EGRESS_ALLOW to allow it"
    )


def test_message_names_host_and_address() -> None:
    assert _refusal("127.0.0.1", 8233, host="rebind.test") == (
        "http node may not reach rebind.test:8233 (address 127.0.0.1) (loopback): only public "
        "addresses are allowed by default; list it in RUNLOOM_EGRESS_ALLOW to allow it"
    )


@pytest.mark.parametrize("ip", [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"])
def test_public_addresses_pass_the_decision(ip: str) -> None:
    check_address(ip, 443, host="example.com", policy=DEFAULT)


@pytest.mark.parametrize(
    ("entry", "ip", "port", "host"),
    [
        ("127.0.0.1", "127.0.0.1", 8080, "127.0.0.1"),
        ("127.0.0.1:8080", "127.0.0.1", 8080, "127.0.0.1"),
        ("127.0.0.1:8080", "::ffff:127.0.0.1", 8080, "::ffff:127.0.0.1"),
        ("svc.internal", "10.0.0.7", 443, "svc.internal"),
        ("SVC.Internal.:443", "10.0.0.7", 443, "svc.internal"),
        ("10.0.0.0/8", "10.200.0.1", 5000, "10.200.0.1"),
        ("fd00::/8", "fd12::5", 80, "fd12::5"),
        ("::1", "::1", 80, "::1"),
        ("[::1]:8080", "::1", 8080, "::1"),
    ],
)
def test_allow_entries_open_addresses(entry: str, ip: str, port: int, host: str) -> None:
    check_address(ip, port, host=host, policy=EgressPolicy(allow=(entry,)))


@pytest.mark.parametrize(
    ("entry", "ip", "port", "host"),
    [
        ("127.0.0.1:8080", "127.0.0.1", 8081, "127.0.0.1"),
        ("svc.internal", "10.0.0.7", 443, "other.internal"),
        ("svc.internal", "10.0.0.7", 443, "10.0.0.7"),
        ("10.0.0.0/8", "172.16.0.1", 80, "172.16.0.1"),
        ("[::1]:8080", "::1", 80, "::1"),
    ],
)
def test_allow_entries_open_nothing_else(entry: str, ip: str, port: int, host: str) -> None:
    with pytest.raises(EgressDenied):
        check_address(ip, port, host=host, policy=EgressPolicy(allow=(entry,)))


def test_deny_list_refuses_platform_address_even_when_public() -> None:
    policy = EgressPolicy(deny=(f"{PUBLIC}:7233",))
    assert _refusal(PUBLIC, 7233, policy=policy) == (
        f"http node may not reach {PUBLIC}:7233 (platform address): runloom's own services "
        "are refused; list it with its port in RUNLOOM_EGRESS_ALLOW to allow it"
    )
    check_address(PUBLIC, 443, host=PUBLIC, policy=policy)


def test_deny_list_opens_only_to_an_entry_with_its_port() -> None:
    deny = ("127.0.0.1:7233",)
    with pytest.raises(EgressDenied, match="platform address"):
        check_address(
            "127.0.0.1",
            7233,
            host="127.0.0.1",
            policy=EgressPolicy(allow=("127.0.0.0/8",), deny=deny),
        )
    with pytest.raises(EgressDenied, match="platform address"):
        check_address(
            "127.0.0.1",
            7233,
            host="127.0.0.1",
            policy=EgressPolicy(allow=("127.0.0.1",), deny=deny),
        )
    check_address("127.0.0.1", 7233, host="127.0.0.1", policy=EgressPolicy(allow=deny, deny=deny))


def test_deny_list_matches_host_names() -> None:
    policy = EgressPolicy(deny=("temporal.internal:7233",))
    with pytest.raises(EgressDenied, match=r"temporal\.internal:7233 \(address 93\."):
        check_address(PUBLIC, 7233, host="temporal.internal", policy=policy)


def test_enforce_off_allows_everything() -> None:
    policy = EgressPolicy(enforce=False, deny=("127.0.0.1:7233",))
    check_address("127.0.0.1", 7233, host="127.0.0.1", policy=policy)
    check_address("169.254.169.254", 80, host="169.254.169.254", policy=policy)


def _resolver(answers: dict[str, Sequence[str]]) -> egress.Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host == PUBLIC:
            return [PUBLIC]
        if host not in answers:
            raise OSError(f"unknown name {host}")
        return answers[host]

    return resolve


async def test_resolve_checked_refuses_when_any_address_is_refused() -> None:
    resolver = _resolver({"mixed.test": [PUBLIC, "10.0.0.1"]})
    with pytest.raises(EgressDenied, match=r"mixed\.test:80 \(address 10\.0\.0\.1\) \(private\)"):
        await egress.resolve_checked("mixed.test", 80, policy=DEFAULT, resolver=resolver)


async def test_resolve_checked_returns_what_it_checked() -> None:
    resolver = _resolver({"ok.test": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]})
    addresses = await egress.resolve_checked("ok.test", 443, policy=DEFAULT, resolver=resolver)
    assert addresses == (PUBLIC, "2606:2800:220:1:248:1893:25c8:1946")


async def test_deny_names_are_resolved_to_catch_their_addresses() -> None:
    """Another name or the bare IP of a denied platform host:port is refused too."""
    resolver = _resolver({"temporal.internal": [PUBLIC], "alias.test": [PUBLIC]})
    policy = EgressPolicy(deny=("temporal.internal:7233",))
    for host in (PUBLIC, "alias.test"):
        with pytest.raises(EgressDenied, match="platform address"):
            await egress.resolve_checked(host, 7233, policy=policy, resolver=resolver)
    assert await egress.resolve_checked("alias.test", 443, policy=policy, resolver=resolver) == (
        PUBLIC,
    )


async def test_unresolvable_deny_name_fails_closed() -> None:
    policy = EgressPolicy(deny=("gone.internal:7233",))
    with pytest.raises(OSError) as caught:
        await egress.resolve_checked(PUBLIC, 7233, policy=policy, resolver=_resolver({}))
    assert str(caught.value) == (
        f"cannot check {PUBLIC}:7233: platform address gone.internal does not resolve "
        "(unknown name gone.internal)"
    )


async def test_system_resolver_takes_ip_literals_as_they_are() -> None:
    assert await egress.system_resolver("127.0.0.1", 80) == ("127.0.0.1",)
    assert await egress.system_resolver("::1", 80) == ("::1",)


def test_parse_allow_normalizes_entries() -> None:
    text = " Example.COM , api.test:8443, 10.0.0.0/8, fd00::/8, ::1, [::1]:8080, 127.0.0.1:9000,,"
    assert egress.parse_allow(text) == (
        "example.com",
        "api.test:8443",
        "10.0.0.0/8",
        "fd00::/8",
        "::1",
        "[::1]:8080",
        "127.0.0.1:9000",
    )
    assert egress.parse_allow("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "10.0.0.0/33",
            "RUNLOOM_EGRESS_ALLOW: '10.0.0.0/33' is not a valid CIDR ('33' is not a valid netmask)",
        ),
        (
            "10.0.0.1/8",
            "RUNLOOM_EGRESS_ALLOW: '10.0.0.1/8' is not a valid CIDR (10.0.0.1/8 has host bits set)",
        ),
        ("host:http", "RUNLOOM_EGRESS_ALLOW: 'host:http' has no valid port (1-65535) after ':'"),
        ("host:0", "RUNLOOM_EGRESS_ALLOW: 'host:0' has no valid port (1-65535) after ':'"),
        ("host:70000", "RUNLOOM_EGRESS_ALLOW: 'host:70000' has no valid port (1-65535) after ':'"),
        (
            "ok.test, bad host",
            "RUNLOOM_EGRESS_ALLOW: 'bad host' is not a host, host:port or CIDR entry",
        ),
        (
            "http://x.test",
            "RUNLOOM_EGRESS_ALLOW: 'http://x.test' is not a host, host:port or CIDR entry",
        ),
        ("[::1", "RUNLOOM_EGRESS_ALLOW: '[::1' is not a valid [IPv6]:port entry"),
        ("a:b:c", "RUNLOOM_EGRESS_ALLOW: 'a:b:c' is not a host, host:port or CIDR entry"),
    ],
)
def test_parse_allow_names_the_bad_entry(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        egress.parse_allow(text)
    assert str(caught.value) == message


def test_policy_validates_its_entries() -> None:
    with pytest.raises(ValueError, match=r"^EgressPolicy.deny: 'x y:1' is not a host"):
        EgressPolicy(deny=("x y:1",))
    with pytest.raises(ValueError, match="max_body_bytes must be a positive integer, got 0"):
        EgressPolicy(max_body_bytes=0)


def test_policy_refuses_a_string_for_its_lists() -> None:
    with pytest.raises(TypeError) as caught:
        EgressPolicy(allow="10.0.0.0/8")  # type: ignore[arg-type]
    assert str(caught.value) == "EgressPolicy.allow takes a tuple of entries; see parse_allow"


def test_policy_round_trips_through_json() -> None:
    policy = EgressPolicy(
        allow=("10.0.0.0/8", "svc.test:8080"),
        deny=("127.0.0.1:5432", "localhost:7233"),
        max_body_bytes=1234,
        enforce=False,
    )
    document = json.loads(json.dumps(policy.to_json()))
    assert EgressPolicy.from_json(document) == policy
    assert EgressPolicy.from_json({}) == EgressPolicy()


def test_from_env_reads_the_settings() -> None:
    policy = EgressPolicy.from_env(
        {"RUNLOOM_EGRESS_ALLOW": "10.0.0.0/8,svc.test", "RUNLOOM_HTTP_MAX_BODY_MB": "2"}
    )
    assert policy == EgressPolicy(allow=("10.0.0.0/8", "svc.test"), max_body_bytes=2 * 1024 * 1024)
    assert EgressPolicy.from_env({}) == EgressPolicy()
    with pytest.raises(ValueError) as caught:
        EgressPolicy.from_env({"RUNLOOM_HTTP_MAX_BODY_MB": "lots"})
    assert (
        str(caught.value) == "RUNLOOM_HTTP_MAX_BODY_MB must be a positive number of MiB, got 'lots'"
    )


def test_configure_sets_the_process_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "_policy", None)
    monkeypatch.setenv("RUNLOOM_EGRESS_ALLOW", "svc.test")
    assert egress.current().allow == ("svc.test",)  # exports: read from the environment
    configured = EgressPolicy(deny=("127.0.0.1:7233",))
    egress.configure(configured)
    assert egress.current() is configured
    egress.configure(None)
    monkeypatch.setenv("RUNLOOM_EGRESS_ALLOW", "other.test")
    assert egress.current().allow == ("other.test",)


@pytest.mark.parametrize("scheme", ["file", "ftp", "gopher", "FILE"])
def test_only_http_and_https_schemes(scheme: str) -> None:
    with pytest.raises(EgressDenied) as caught:
        egress.check_scheme(scheme)
    assert str(caught.value) == (
        f"http node may only fetch http:// and https:// URLs, not {scheme}:"
    )
    egress.check_scheme("https")
    egress.check_scheme("HTTP")
    with pytest.raises(EgressDenied, match=r"^http node URLs must start with http:// or https://$"):
        egress.check_scheme("")
