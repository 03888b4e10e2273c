"""Egress fixtures; none can reach beyond this machine (see ``_no_packets_off_this_machine``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpcore
import httpcore2
import httpx
import httpx2
import pytest

from sprintconnect.egress import EgressPolicy, build_async_client, build_httpx_client
from tests.egress.support import (
    FakeResolver,
    LoopbackOnly1,
    LoopbackOnly2,
    OffMachineConnect,
    TinyServer,
    is_loopback_literal,
    tls_pair,
)


@pytest.fixture(autouse=True)
def _no_packets_off_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second net under the guard: the raw backends and the loop's resolver refuse anything
    but loopback literals for the length of each egress test, even if a test forgets to inject
    its own backend or resolver. DNS would send packets too, so it is refused as well."""
    for backend in (httpcore2.AnyIOBackend, httpcore.AnyIOBackend):
        original = backend.connect_tcp

        async def connect_tcp(
            self: Any, host: str, port: int, *args: Any, _original: Any = original, **kw: Any
        ) -> Any:
            if not is_loopback_literal(host):
                raise OffMachineConnect(f"raw backend refused {host}:{port}")
            return await _original(self, host, port, *args, **kw)

        monkeypatch.setattr(backend, "connect_tcp", connect_tcp)

    real_getaddrinfo = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def getaddrinfo(self: Any, host: Any, *args: Any, **kwargs: Any) -> Any:
        if not (isinstance(host, str) and is_loopback_literal(host)):
            raise OffMachineConnect(f"resolver refused {host!r}")
        return await real_getaddrinfo(self, host, *args, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
async def server() -> AsyncIterator[TinyServer]:
    instance = TinyServer()
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture(scope="session")
async def tls_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TinyServer]:
    server_context, client_context = tls_pair("mcp.test", tmp_path_factory.mktemp("tls"))
    instance = TinyServer(tls=server_context, client_tls=client_context)
    await instance.start()
    yield instance
    await instance.stop()


Client = httpx2.AsyncClient | httpx.AsyncClient
RawBackend = LoopbackOnly1 | LoopbackOnly2
ClientFactory = Callable[..., tuple[Client, RawBackend]]


@pytest.fixture(params=["httpx2", "httpx"])
def make_client(request: pytest.FixtureRequest) -> ClientFactory:
    """Build a guarded client of either library over a loopback-only raw backend; the raw
    backend comes back too, so a test can see which addresses the guard connected to."""
    library: str = request.param

    def factory(
        policy: EgressPolicy, resolver: FakeResolver | None = None, **kwargs: Any
    ) -> tuple[Client, RawBackend]:
        resolver = resolver or FakeResolver({})
        if library == "httpx2":
            raw2 = LoopbackOnly2()
            return build_async_client(
                policy, resolver=resolver, network_backend=raw2, **kwargs
            ), raw2
        raw1 = LoopbackOnly1()
        return build_httpx_client(policy, resolver=resolver, network_backend=raw1, **kwargs), raw1

    return factory
