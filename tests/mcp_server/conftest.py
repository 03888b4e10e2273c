"""Registry fixtures: apps whose outbound connections can reach nothing but loopback.

Two nets keep every packet on this machine. Each app's ``state.network`` holds a fake resolver
and loopback-only backends (``wire``), so connection checks resolve test names by table and
refuse any socket to an address that is not loopback. Under that, ``_no_packets_off_this_machine``
patches the raw backends and the event loop's resolver for the length of each test, so even a
connection made without the injected network cannot leave.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.app import create_app
from sprintconnect.config import Settings
from sprintconnect.mcp_server.connector import Network
from sprintconnect.runtime import Runtime
from tests.egress.support import (
    FakeResolver,
    LoopbackOnly1,
    LoopbackOnly2,
)
from tests.fixtures.offline import refuse_off_machine
from tests.fixtures.vault import VaultEnv


@pytest.fixture(autouse=True)
def _no_packets_off_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_off_machine(monkeypatch)


@dataclass
class Wire:
    """What an app's connection checks go through: a fake resolver over loopback-only sockets.

    ``attempts`` lists every socket the guard asked for, after its checks.
    """

    resolver: FakeResolver
    backend: LoopbackOnly2
    httpx_backend: LoopbackOnly1

    @property
    def network(self) -> Network:
        return Network(
            resolver=self.resolver, backend=self.backend, httpx_backend=self.httpx_backend
        )

    @property
    def attempts(self) -> list[tuple[str, int]]:
        return [*self.backend.attempts, *self.httpx_backend.attempts]

    def name(self, host: str, *answers: list[str]) -> None:
        """Make ``host`` resolve to ``answers`` in turn (the last one repeating)."""
        self.resolver.answers[host] = [list(answer) for answer in answers]


@pytest.fixture(autouse=True)
def wire(app: FastAPI) -> Iterator[Wire]:
    """A fresh wire, installed on the default app (loopback denied) for this test."""
    instance = Wire(FakeResolver({}), LoopbackOnly2(), LoopbackOnly1())
    app.state.network = instance.network
    yield instance
    del app.state.network


def _app(runtime: Runtime, settings: Settings) -> FastAPI:
    return create_app(runtime=dataclasses.replace(runtime, settings=settings))


async def _started(application: FastAPI) -> AsyncIterator[FastAPI]:
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def loopback_app(runtime: Runtime) -> AsyncIterator[FastAPI]:
    """The app on the same database, with an operator's ``egress_allow_loopback`` switched on
    so that the loopback fixture servers can be registered and reached."""
    settings = runtime.settings.model_copy(update={"egress_allow_loopback": True})
    async for application in _started(_app(runtime, settings)):
        yield application


@pytest.fixture(scope="session")
async def vault_app(runtime: Runtime, vault_env: VaultEnv) -> AsyncIterator[FastAPI]:
    """The loopback app again, with credentials kept in OpenBao instead of PostgreSQL."""
    assert runtime.settings.database_url is not None
    settings = vault_env.settings(
        runtime.settings.database_url.get_secret_value(),
        runtime.settings.resolved_data_dir,
        egress_allow_loopback=True,
    )
    async for application in _started(_app(runtime, settings)):
        yield application


def _client(application: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def lclient(loopback_app: FastAPI, wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the loopback app; its connection checks go through ``wire``."""
    loopback_app.state.network = wire.network
    async with _client(loopback_app) as c:
        yield c


@pytest.fixture
async def vclient(vault_app: FastAPI, wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the vault-backed loopback app."""
    vault_app.state.network = wire.network
    async with _client(vault_app) as c:
        yield c
