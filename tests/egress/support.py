"""Test doubles for the egress guard: a fake resolver, a loopback-only backend, tiny servers."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Address, ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import httpcore2

from sprintconnect.egress import IPAddress
from tests.fixtures.tls import TestCA

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
    authority = TestCA("egress test CA")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*authority.server_named(name).write(directory, "server"))
    client = ssl.create_default_context(cadata=authority.cert_pem)
    return server, client
