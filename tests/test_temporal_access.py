"""connect_temporal against a real dev server behind a TLS-terminating proxy on loopback:
TLS, mTLS, and each way a connection is refused, with the setting to fix named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from runloom.stack.ports import free_port
from runloom.temporal_access import (
    TemporalAccess,
    TemporalConnectError,
    connect_temporal,
    explain,
)
from runloom.worker import protocol
from tests.tls_proxy import Pki, TlsProxy


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


def _upstream(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


@pytest.fixture(scope="module")
def tls_proxy(temporal_env: WorkflowEnvironment, pki: Pki) -> Iterator[TlsProxy]:
    proxy = TlsProxy(_upstream(temporal_env), pki).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def mtls_proxy(temporal_env: WorkflowEnvironment, pki: Pki) -> Iterator[TlsProxy]:
    proxy = TlsProxy(_upstream(temporal_env), pki, require_client_cert=True).start()
    yield proxy
    proxy.stop()


def _access(address: str, **kw: Any) -> TemporalAccess:
    return TemporalAccess(address=address, namespace="default", **kw)


async def _refusal(access: TemporalAccess) -> str:
    with pytest.raises(TemporalConnectError) as caught:
        await connect_temporal(access)
    return str(caught.value)


async def _namespace_answers(client: Client) -> None:
    # A workflow service call, so the bytes went both ways through the TLS connection.
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert described.namespace_info.name == "default"


async def test_tls_connects_and_answers(tls_proxy: TlsProxy, pki: Pki) -> None:
    before = tls_proxy.connections
    access = _access(tls_proxy.address, tls=True, server_ca_pem=pki.ca.read_text())
    await _namespace_answers(await connect_temporal(access))
    assert tls_proxy.connections > before


async def test_server_name_selects_the_name_the_certificate_is_checked_against(
    tls_proxy: TlsProxy, pki: Pki
) -> None:
    ca = pki.ca.read_text()
    access = _access(tls_proxy.address, tls=True, server_ca_pem=ca, server_name="localhost")
    await _namespace_answers(await connect_temporal(access))
    wrong = _access(tls_proxy.address, tls=True, server_ca_pem=ca, server_name="temporal.test")
    message = await _refusal(wrong)
    assert f"TLS handshake with Temporal at {tls_proxy.address} failed" in message
    assert "not valid for 'temporal.test'" in message
    assert "localhost" in message and "TEMPORAL_TLS_SERVER_NAME" in message


async def test_mtls_connects_with_the_client_certificate(mtls_proxy: TlsProxy, pki: Pki) -> None:
    access = _access(
        mtls_proxy.address,
        tls=True,
        server_ca_pem=pki.ca.read_text(),
        client_cert_pem=pki.client_cert.read_text(),
        client_key_pem=pki.client_key.read_text(),
    )
    await _namespace_answers(await connect_temporal(access))


async def test_mtls_without_a_client_certificate_is_refused_clearly(
    mtls_proxy: TlsProxy, pki: Pki
) -> None:
    message = await _refusal(
        _access(mtls_proxy.address, tls=True, server_ca_pem=pki.ca.read_text())
    )
    assert message.startswith(
        f"TLS handshake with Temporal at {mtls_proxy.address} failed: the server requires a "
        "client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"
    )


async def test_a_wrong_ca_is_refused_naming_temporal_tls_ca(tls_proxy: TlsProxy, pki: Pki) -> None:
    access = _access(tls_proxy.address, tls=True, server_ca_pem=pki.other_ca.read_text())
    message = await _refusal(access)
    assert message.startswith(
        f"TLS handshake with Temporal at {tls_proxy.address} failed: the server's certificate "
        "is not signed by TEMPORAL_TLS_CA ("
    )


async def test_without_a_ca_the_system_roots_refuse_a_private_ca(tls_proxy: TlsProxy) -> None:
    message = await _refusal(_access(tls_proxy.address, tls=True))
    assert "not signed by a CA this system trusts; set TEMPORAL_TLS_CA" in message


async def test_tls_towards_a_plain_server_says_it_does_not_speak_tls(
    temporal_env: WorkflowEnvironment, pki: Pki
) -> None:
    upstream = _upstream(temporal_env)
    message = await _refusal(_access(upstream, tls=True, server_ca_pem=pki.ca.read_text()))
    assert message.startswith(
        f"TLS handshake with Temporal at {upstream} failed: the server does not speak TLS; "
        "unset TEMPORAL_TLS"
    )


async def test_plain_towards_a_tls_server_says_to_turn_tls_on(tls_proxy: TlsProxy) -> None:
    message = await _refusal(_access(tls_proxy.address))
    assert message.startswith(
        f"cannot connect to Temporal at {tls_proxy.address}: the server speaks TLS; "
        "set TEMPORAL_TLS=1"
    )


async def test_nothing_listening_names_temporal_address() -> None:
    address = f"127.0.0.1:{free_port()}"
    message = await _refusal(_access(address, tls=True))
    assert message == (
        f"cannot connect to Temporal at {address}: nothing accepts connections there "
        "(TEMPORAL_ADDRESS)"
    )


class _FakeConnect:
    """Stands in for Client.connect: records what it was given."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, target_host: str, **kw: Any) -> str:
        self.calls.append({"target_host": target_host, **kw})
        return "client"


@pytest.fixture
def fake_connect(monkeypatch: pytest.MonkeyPatch) -> _FakeConnect:
    fake = _FakeConnect()
    monkeypatch.setattr(Client, "connect", fake)
    return fake


async def test_the_api_key_is_passed_with_tls(fake_connect: _FakeConnect) -> None:
    access = _access("temporal.example:7233", tls=True, api_key="key-123", server_name="x.tmprl")
    await connect_temporal(access, namespace="ns.acct", identity="w@h")
    (call,) = fake_connect.calls
    assert call["target_host"] == "temporal.example:7233"
    assert call["api_key"] == "key-123"
    assert call["namespace"] == "ns.acct"
    assert call["identity"] == "w@h"
    assert call["tls"] == TLSConfig(domain="x.tmprl")


async def test_an_api_key_without_tls_stays_plain(fake_connect: _FakeConnect) -> None:
    # The SDK turns TLS on when a key is given and `tls` is None; TEMPORAL_TLS=0 must win.
    await connect_temporal(_access("127.0.0.1:7233", api_key="key-123"))
    assert fake_connect.calls[0]["tls"] is False
    assert fake_connect.calls[0]["api_key"] == "key-123"


def test_the_start_message_carries_the_material_and_hides_it(pki: Pki) -> None:
    access = _access(
        "127.0.0.1:7233",
        tls=True,
        server_ca_pem=pki.ca.read_text(),
        server_name="localhost",
        client_cert_pem=pki.client_cert.read_text(),
        client_key_pem=pki.client_key.read_text(),
        api_key="key-that-must-not-leak",
    )
    start = protocol.Start(
        task_queue="q",
        temporal_address=access.address,
        temporal_namespace=access.namespace,
        identity="w",
        heartbeat_s=1.0,
        graceful_shutdown_s=1.0,
        bundle=(),
        temporal_tls=access.to_wire(),
    )
    decoded = protocol.decode(protocol.encode(start))
    assert isinstance(decoded, protocol.Start)
    received = TemporalAccess.from_wire(
        address=decoded.temporal_address,
        namespace=decoded.temporal_namespace,
        wire=decoded.temporal_tls,
    )
    assert received == access
    for text in (repr(start), repr(access)):
        assert "key-that-must-not-leak" not in text
        assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text


def test_an_older_start_message_decodes_as_plain() -> None:
    line = (
        b'{"type":"start","task_queue":"q","temporal_address":"127.0.0.1:7233",'
        b'"temporal_namespace":"default","identity":"w","heartbeat_s":1,'
        b'"graceful_shutdown_s":1,"bundle":[]}'
    )
    start = protocol.decode(line)
    assert isinstance(start, protocol.Start) and start.temporal_tls is None
    access = TemporalAccess.from_wire(address="127.0.0.1:7233", namespace="default", wire=None)
    assert not access.secured and access.tls_config() is False


# What a TLS 1.2 server, and Temporal Cloud, answer; the proxy above does neither.
_TLS12_ALERT = (
    "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
    "ConnectError(Custom { kind: InvalidData, error: AlertReceived(HandshakeFailure) }))"
)
_UNAUTHENTICATED = (
    "Failed client connect: `get_system_info` call error after connection: Status { "
    'code: Unauthenticated, message: "Request unauthorized." }'
)


async def test_a_tls12_refusal_of_the_client_certificate_names_the_settings() -> None:
    plain = await explain(_access("h:7233", tls=True), _TLS12_ALERT)
    assert "requires a client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY" in plain
    with_cert = await explain(
        _access("h:7233", tls=True, client_cert_pem="c", client_key_pem="k"), _TLS12_ALERT
    )
    assert "refused the client certificate TEMPORAL_TLS_CERT" in with_cert


async def test_a_refused_api_key_names_temporal_api_key() -> None:
    message = await explain(_access("h:7233", tls=True, api_key="k"), _UNAUTHENTICATED)
    assert message.startswith("Temporal at h:7233 refused our credentials: check TEMPORAL_API_KEY")
