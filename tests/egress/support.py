"""Test doubles for the egress guard: a fake resolver, a loopback-only backend, tiny servers."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Address, ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import httpcore2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sprintconnect.egress import IPAddress

_LOOPBACK_V4 = IPv4Network("127.0.0.0/8")
_LOOPBACK_V6 = IPv6Address("::1")


class OffMachineConnect(AssertionError):
    """A test tried to open a connection to something other than loopback."""


def is_loopback_literal(host: str) -> bool:
    """Whether ``host`` is a loopback IP literal (explicit ranges, not ``is_loopback``)."""
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return address == _LOOPBACK_V6 or (address.version == 4 and address in _LOOPBACK_V4)


class FakeResolver:
    """Maps test host names to answers; a list of answers is served in turn, the last repeating."""

    def __init__(self, answers: dict[str, Sequence[Sequence[str]]]) -> None:
        self.answers = {name: [list(a) for a in seq] for name, seq in answers.items()}
        self.calls: list[str] = []

    @classmethod
    def fixed(cls, **names: str | Iterable[str]) -> FakeResolver:
        return cls(
            {
                name.replace("_", "-") + ".test": [
                    [value] if isinstance(value, str) else list(value)
                ]
                for name, value in names.items()
            }
        )

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise OSError(f"unknown test host {host!r}")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ip_address(text) for text in answer]


class _LoopbackOnly:
    """Beneath the guard: refuses any connection that is not to a loopback IP literal."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.attempts: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- the backend interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        self.attempts.append((host, port))
        if not is_loopback_literal(host):
            raise OffMachineConnect(f"refused a connection to {host}:{port}")
        return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def connect_unix_socket(self, path: str, *args: Any, **kwargs: Any) -> Any:
        raise OffMachineConnect(f"refused a unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class LoopbackOnly2(_LoopbackOnly, httpcore2.AsyncNetworkBackend):
    def __init__(self) -> None:
        super().__init__(httpcore2.AnyIOBackend())


class LoopbackOnly1(_LoopbackOnly, httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        super().__init__(httpcore.AnyIOBackend())


@dataclass
class TinyServer:
    """An HTTP/1.1 server on 127.0.0.1: ``/ok`` answers 200, ``/redirect/<code>?to=<url>``
    redirects. It records each request target and, with TLS, the SNI name it was sent."""

    tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None  # what a client must trust to verify this server
    requests: list[str] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        if self.tls is not None:
            self.tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
        self.requests.append(target)
        parts = urlsplit(target)
        status, extra, body = 404, "", b"not found"
        if parts.path == "/ok":
            status, body = 200, b"ok"
        elif parts.path.startswith("/redirect/"):
            status, body = int(parts.path.rsplit("/", 1)[1]), b""
            extra = f"Location: {parse_qs(parts.query)['to'][0]}\r\n"
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
            f"{extra}\r\n".encode("latin-1")
            + body
        )
        await writer.drain()
        writer.close()


def tls_pair(name: str, directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name`` only (no IP), and a client context
    that trusts just its issuing test CA."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "egress test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*_write_pem(leaf, key, directory))
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


def _write_pem(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, directory: Path
) -> tuple[Path, Path]:
    # ssl loads certificate chains only from files.
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
