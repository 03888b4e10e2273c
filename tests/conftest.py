"""Shared fixtures: a migrated database on real PostgreSQL, the app, and orgs with keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.api_key.service import ApiKeyService
from sprintconnect.app import create_app
from sprintconnect.config import Settings
from sprintconnect.db import migrate
from sprintconnect.identity.ratelimit import RateLimiter
from sprintconnect.kit.clock import Clock
from sprintconnect.organization.service import bootstrap
from sprintconnect.runtime import Runtime, build_runtime
from tests import services

# Fixtures that test packages share: real MCP servers, and a real OpenBao.
pytest_plugins = ["tests.fixtures.mcp_servers", "tests.fixtures.vault", "tests.fixtures.receiver"]

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
E2E = Path(__file__).parent / "e2e"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The browser tests run in a pytest of their own (``make pytest-e2e``), or when named.

    Playwright's synchronous API keeps its event loop marked as running in the main thread
    between calls, so no asyncio test or fixture can run in the same process after it starts.
    """
    if collection_path != E2E:
        return None
    named = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    return not any(path == E2E or E2E in path.parents for path in named)


class ShiftableClock(Clock):
    """Real time plus an offset that a test may move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Tenant:
    """An organization with its admin user and an admin API key."""

    org_id: uuid.UUID
    slug: str
    user_id: uuid.UUID
    key_id: uuid.UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sprintconnect")


@pytest.fixture(scope="session")
def pg_admin(scratch: Path) -> str:
    url, _source = services.admin_url(scratch / "embedded-admin")
    return url


@pytest.fixture(scope="session")
def database_url(pg_admin: str) -> Iterator[str]:
    url = services.create_database(pg_admin)
    yield url
    services.drop_database(pg_admin, url)


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    return services.redis_url()


def make_settings(database_url: str | None, data_dir: Path, **extra: Any) -> Settings:
    defaults: dict[str, Any] = {
        "secret_key": TEST_SECRET,
        "api_key_rate_limit": "100000/minute",
        "org_rate_limit": "1000000/minute",
        "auth_failure_rate_limit": "100000/minute",
        "log_format": "console",
        "inprocess_worker": False,
        # Workers of other tests would check every registered server; tests that want the
        # health scheduler turn it on.
        "health_scheduler": False,
    }
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        _env_file=None,  # type: ignore[call-arg]
        **{**defaults, **extra},
    )


@pytest.fixture(scope="session")
def settings(database_url: str, scratch: Path) -> Settings:
    return make_settings(database_url, scratch / "data")


@pytest.fixture(scope="session")
def clock() -> ShiftableClock:
    return ShiftableClock()


@pytest.fixture(scope="session")
async def runtime(settings: Settings, clock: ShiftableClock) -> AsyncIterator[Runtime]:
    rt = build_runtime(settings, clock=clock)
    migrate.upgrade(rt.db)
    yield rt
    await rt.db.dispose()


@pytest.fixture(scope="session")
async def app(runtime: Runtime) -> AsyncIterator[FastAPI]:
    application = create_app(runtime=runtime)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


AppClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app_client(runtime: Runtime, database_url: str) -> AsyncIterator[AppClientFactory]:
    """``await app_client(base_url=..., **settings)``: a client of a new app with settings of
    its own (like another process) on the tests' database; closed after the test."""
    async with AsyncExitStack() as stack:

        async def make(base_url: str = "http://testserver", **extra: Any) -> httpx.AsyncClient:
            rt = build_runtime(
                make_settings(database_url, runtime.settings.data_dir, **extra), clock=runtime.clock
            )
            stack.push_async_callback(rt.db.dispose)
            application = create_app(runtime=rt)
            await stack.enter_async_context(application.router.lifespan_context(application))
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=base_url)
            )

        yield make


@pytest.fixture
def moved_clock(clock: ShiftableClock) -> Iterator[ShiftableClock]:
    """The shared clock, put back where it was after the test."""
    yield clock
    clock.offset = timedelta()


@pytest.fixture
def swap_rate_limiter(app: FastAPI) -> Iterator[Callable[[RateLimiter], None]]:
    original = app.state.rate_limiter

    def swap(limiter: RateLimiter) -> None:
        app.state.rate_limiter = limiter

    yield swap
    app.state.rate_limiter = original


TenantFactory = Callable[..., Awaitable[Tenant]]


@pytest.fixture
def make_tenant(runtime: Runtime) -> TenantFactory:
    """Bootstrap a fresh organization (unique name) with an admin key."""

    async def factory(name: str | None = None) -> Tenant:
        name = name or f"Org {uuid.uuid4().hex[:12]}"
        async with runtime.db.sessionmaker() as session, session.begin():
            keys = ApiKeyService(session, runtime.keyring, runtime.clock)
            result = await bootstrap(
                session, keys, org_name=name, email=f"admin-{uuid.uuid4().hex[:8]}@example.com"
            )
        return Tenant(
            org_id=result.organization.id,
            slug=result.organization.slug,
            user_id=result.user.id,
            key_id=result.api_key.record.id,
            key=result.api_key.plaintext,
        )

    return factory


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    return await make_tenant()


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with ``status`` (and ``slug`` when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("/problems/")
    assert body["request_id"] == response.headers["x-request-id"]
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


@dataclass
class Member:
    """A member of a tenant with their own API key."""

    user_id: uuid.UUID
    key_id: uuid.UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


MemberFactory = Callable[..., Awaitable[Member]]


@pytest.fixture
def make_member(client: httpx.AsyncClient) -> MemberFactory:
    """Add a member with ``roles`` and issue them a key with ``scopes``, as an admin would:
    ``POST /api/v1/users``, then ``POST /api/v1/users/{id}/api-keys`` with the tenant's key."""

    async def factory(tenant: Tenant, roles: list[str], scopes: list[str] | None = None) -> Member:
        email = f"member-{uuid.uuid4().hex[:10]}@example.com"
        added = await client.post(
            "/api/v1/users", json={"email": email, "roles": roles}, headers=tenant.headers
        )
        assert added.status_code == 201, added.text
        user_id = uuid.UUID(added.json()["user_id"])
        issued = await client.post(
            f"/api/v1/users/{user_id}/api-keys",
            json={"name": "member key", "scopes": scopes or ["admin"], "never_expires": True},
            headers=tenant.headers,
        )
        assert issued.status_code == 201, issued.text
        body = issued.json()
        return Member(user_id=user_id, key_id=uuid.UUID(body["api_key"]["id"]), key=body["key"])

    return factory
