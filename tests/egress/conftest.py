"""Egress fixtures; none can reach beyond this machine (see ``_no_packets_off_this_machine``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import httpx2
import pytest

from sprintconnect.egress import EgressPolicy, build_async_client, build_httpx_client
from tests.egress.support import (
    FakeResolver,
    LoopbackOnly1,
    LoopbackOnly2,
    TinyServer,
    tls_pair,
)
from tests.fixtures.offline import refuse_off_machine


@pytest.fixture(autouse=True)
def _no_packets_off_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second net under the guard, even if a test forgets to inject its own backend or
    resolver: DNS would send packets too, so lookups are refused as well."""
    refuse_off_machine(monkeypatch)


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
