"""How every runloom process reaches Temporal: address, namespace, TLS, mTLS, API key.

The API, the manager, the tracker, the schedules' platform worker and each project worker
connect through :func:`connect_temporal`, so TLS and credentials are configured in one
place and a refused connection is explained the same way everywhere: the message names
the setting to fix (``TEMPORAL_TLS_CA``, ``TEMPORAL_TLS_SERVER_NAME``,
``TEMPORAL_TLS_CERT``/``KEY``, ``TEMPORAL_TLS``, ``TEMPORAL_API_KEY``).

Kept to the standard library and temporalio: the project worker imports it, and it must
not pull in the platform's services.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client, Interceptor
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

__all__ = [
    "TemporalAccess",
    "TemporalAccessError",
    "TemporalConnectError",
    "TemporalSettingsError",
    "connect_temporal",
    "explain",
    "read_pem",
]


class TemporalAccessError(Exception):
    """Root of this module's errors."""


class TemporalSettingsError(TemporalAccessError):
    """A TLS file named by a setting cannot be used."""


class TemporalConnectError(TemporalAccessError):
    """Temporal cannot be reached with these settings; the message says which to fix."""


@dataclass(frozen=True, slots=True)
class TemporalAccess:
    """Where Temporal is and how to prove who we are to it. PEM texts, not paths: project
    workers receive them over their pipe and must not read files."""

    address: str
    namespace: str = "default"
    tls: bool = False
    server_ca_pem: str | None = field(default=None, repr=False)
    server_name: str | None = None
    client_cert_pem: str | None = field(default=None, repr=False)
    client_key_pem: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    @property
    def secured(self) -> bool:
        """TLS or credentials are configured (so a plain dev server is not what we want)."""
        return self.tls or self.api_key is not None

    def tls_config(self) -> TLSConfig | bool:
        """What Client.connect takes as ``tls``: False is explicit, so that an API key
        without TLS (TEMPORAL_TLS=0) stays plain instead of the SDK's default of TLS."""
        if not self.tls:
            return False
        return TLSConfig(
            server_root_ca_cert=_bytes(self.server_ca_pem),
            domain=self.server_name,
            client_cert=_bytes(self.client_cert_pem),
            client_private_key=_bytes(self.client_key_pem),
        )

    def to_wire(self) -> dict[str, Any]:
        """The TLS material and API key as JSON, for a worker's Start message (its address
        and namespace travel in fields of their own)."""
        return {
            "tls": self.tls,
            "server_ca_pem": self.server_ca_pem,
            "server_name": self.server_name,
            "client_cert_pem": self.client_cert_pem,
            "client_key_pem": self.client_key_pem,
            "api_key": self.api_key,
        }

    @classmethod
    def from_wire(
        cls, *, address: str, namespace: str, wire: Mapping[str, Any] | None
    ) -> TemporalAccess:
        """The access a manager described with :meth:`to_wire` (None: plain, no key)."""
        wire = wire or {}
        return cls(
            address=address,
            namespace=namespace,
            tls=bool(wire.get("tls", False)),
            server_ca_pem=wire.get("server_ca_pem"),
            server_name=wire.get("server_name"),
            client_cert_pem=wire.get("client_cert_pem"),
            client_key_pem=wire.get("client_key_pem"),
            api_key=wire.get("api_key"),
        )


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def read_pem(path: Path, *, setting: str) -> str:
    """The PEM text of ``path``; TemporalSettingsError naming ``setting`` otherwise."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise TemporalSettingsError(f"{setting}={path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemporalSettingsError(f"{setting}={path} cannot be read: {exc}") from exc
    if "-----BEGIN " not in text:
        raise TemporalSettingsError(f"{setting}={path} is not a PEM file (no -----BEGIN line)")
    return text


async def connect_temporal(
    access: TemporalAccess,
    *,
    namespace: str | None = None,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
    identity: str | None = None,
) -> Client:
    """A client of ``access`` (in ``namespace`` if given); TemporalConnectError saying
    which setting to fix when the connection is refused."""
    try:
        return await Client.connect(
            access.address,
            namespace=namespace or access.namespace,
            api_key=access.api_key,
            tls=access.tls_config(),
            interceptors=list(interceptors),
            runtime=runtime,
            identity=identity,
        )
    except Exception as exc:
        raise TemporalConnectError(await explain(access, str(exc))) from exc


async def explain(access: TemporalAccess, error: str) -> str:
    """What went wrong, from the SDK's error text (and, where that is ambiguous, from a
    TLS handshake of our own with the server)."""
    where = f"Temporal at {access.address}"
    handshake = f"TLS handshake with {where} failed"
    if "ConnectionRefused" in error or "Connection refused" in error:
        return f"cannot connect to {where}: nothing accepts connections there (TEMPORAL_ADDRESS)"
    if "UnknownIssuer" in error:
        if access.server_ca_pem is not None:
            return (
                f"{handshake}: the server's certificate is not signed by TEMPORAL_TLS_CA ({error})"
            )
        return (
            f"{handshake}: the server's certificate is not signed by a CA this system trusts; "
            f"set TEMPORAL_TLS_CA to the PEM file of the CA that signed it ({error})"
        )
    if "NotValidForName" in error:
        return f"{handshake}: {_name_mismatch(access, error)} ({error})"
    if "InvalidCertificate" in error:
        return f"{handshake}: the server's certificate is refused ({error})"
    if access.tls and ("InvalidContentType" in error or "CorruptMessage" in error):
        return (
            f"{handshake}: the server does not speak TLS; unset TEMPORAL_TLS and the "
            f"TEMPORAL_TLS_* settings, or point TEMPORAL_ADDRESS at its TLS port ({error})"
        )
    if re.search(r"AlertReceived\((CertificateRequired|HandshakeFailure|BadCertificate)", error):
        # What a TLS 1.2 server answers, during the handshake, to a missing or refused
        # client certificate.
        return f"{handshake}: {_client_cert_hint(access)} ({error})"
    if "Unauthenticated" in error or "PermissionDenied" in error:
        return f"{where} refused our credentials: {_credentials_hint(access)} ({error})"
    if _after_connection(error):
        probe = await _probe(access, read=access.tls)
        if access.tls and probe == "client_cert_required":
            return f"{handshake}: {_client_cert_hint(access)} ({error})"
        if not access.tls and probe in ("tls", "client_cert_required"):
            return (
                f"cannot connect to {where}: the server speaks TLS; set TEMPORAL_TLS=1 "
                "(and TEMPORAL_TLS_CA if a CA this system does not trust signed its "
                f"certificate) ({error})"
            )
    return f"cannot connect to {where}: {error}"


def _name_mismatch(access: TemporalAccess, error: str) -> str:
    expected = re.search(r'expected: \w+\(\\?"?([^")\\]+)', error)
    presented = re.findall(
        r'(?:DnsName|IpAddress)\(\\?"?([^")\\]+)', error.split("presented", 1)[-1]
    )
    wanted = expected.group(1) if expected else (access.server_name or access.address)
    names = ", ".join(presented) if presented else "other names"
    return (
        f"the server's certificate is not valid for {wanted!r} (it names {names}); "
        "set TEMPORAL_TLS_SERVER_NAME to a name it carries"
    )


def _credentials_hint(access: TemporalAccess) -> str:
    if access.api_key is not None:
        return "check TEMPORAL_API_KEY (and that it may use TEMPORAL_NAMESPACE)"
    if access.client_cert_pem is not None:
        return "check that TEMPORAL_TLS_CERT may use TEMPORAL_NAMESPACE"
    return "set TEMPORAL_API_KEY, or TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"


def _client_cert_hint(access: TemporalAccess) -> str:
    if access.client_cert_pem is None:
        return (
            "the server requires a client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"
        )
    return (
        "the server refused the client certificate TEMPORAL_TLS_CERT (is it signed by a "
        "CA the server trusts, and still valid?)"
    )


def _after_connection(error: str) -> bool:
    """The TCP connection was made and then closed: what a TLS server does to a plain
    client, and what an mTLS server does to a client without an acceptable certificate."""
    return "after connection" in error or "transport error" in error


async def _probe(access: TemporalAccess, *, read: bool, within_s: float = 3.0) -> str:
    """Our own TLS handshake with the server, without checking its certificate (we only
    want to know what it speaks): "tls", "client_cert_required", "plain" or "unknown"."""
    host, _, port = access.address.rpartition(":")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(within_s):
            reader, writer = await asyncio.open_connection(
                host.strip("[]"), int(port), ssl=context, server_hostname=access.server_name
            )
            # TLS 1.3 servers refuse a missing client certificate after the handshake: with
            # an alert (Go, Envoy), or by closing the connection before saying anything.
            if read and await reader.read(1) == b"":
                return "client_cert_required"
        return "tls"
    except ssl.SSLError as exc:
        text = str(exc).upper()
        if "CERTIFICATE_REQUIRED" in text or "HANDSHAKE_FAILURE" in text:
            return "client_cert_required"
        return "tls" if writer is not None else "plain"
    except TimeoutError:
        # The handshake went through and the server waits for HTTP/2: it speaks TLS.
        return "tls" if writer is not None else "unknown"
    except OSError:
        return "unknown"
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
