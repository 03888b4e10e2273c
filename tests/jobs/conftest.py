"""Platform operators, and a database of the jobs tests' own for tests that run workers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import procrastinate
import pytest
from procrastinate import PsycopgConnector
from sqlalchemy import text

from sprintconnect.api_key.service import ApiKeyService
from sprintconnect.app import create_app
from sprintconnect.db import migrate
from sprintconnect.identity.principal import Actor
from sprintconnect.jobs.app import NAMESPACE, conninfo
from sprintconnect.organization.service import bootstrap
from sprintconnect.runtime import Runtime, build_runtime
from tests import services
from tests.conftest import Tenant, make_settings


async def make_super_admin(runtime: Runtime, user_id: uuid.UUID) -> None:
    # Over the owner connection, as `sprintconnect admin set-super-admin` does: the
    # application role holds no UPDATE on users.
    from sprintconnect.db.owner import owner_transaction

    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("UPDATE users SET is_super_admin = true WHERE id = :id"), {"id": user_id}
        )
    # Another process's change reaches this one's key cache within its bound; do not wait.
    from sprintconnect.identity.cache import forget_now

    forget_now({"*"})


async def issue_key(runtime: Runtime, tenant: Tenant, scopes: list[str]) -> dict[str, str]:
    """Another key of the tenant's admin user, with ``scopes``; its headers."""
    from sprintconnect.db.tenancy import bind_tenant

    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        issued = await ApiKeyService(session, runtime.keyring, runtime.clock).issue(
            org_id=tenant.org_id,
            name=f"key-{'-'.join(scopes)}",
            description=None,
            scopes=scopes,
            expires_at=None,
            created_by_user_id=tenant.user_id,
            actor=Actor("system", "tests"),
        )
    return {"Authorization": f"Bearer {issued.plaintext}"}


async def new_tenant(runtime: Runtime) -> Tenant:
    async with runtime.db.sessionmaker() as session, session.begin():
        keys = ApiKeyService(session, runtime.keyring, runtime.clock)
        result = await bootstrap(
            session,
            keys,
            org_name=f"Org {uuid.uuid4().hex[:12]}",
            email=f"ops-{uuid.uuid4().hex[:8]}@example.com",
        )
    return Tenant(
        org_id=result.organization.id,
        slug=result.organization.slug,
        user_id=result.user.id,
        key_id=result.api_key.record.id,
        key=result.api_key.plaintext,
    )


@pytest.fixture
async def operator(runtime: Runtime) -> Tenant:
    """An organization whose admin user is a platform super admin (admin key)."""
    tenant = await new_tenant(runtime)
    await make_super_admin(runtime, tenant.user_id)
    return tenant


@dataclass
class Isolated:
    """A database only these tests use: workers there run no other package's jobs."""

    url: str
    runtime: Runtime
    client: httpx.AsyncClient
    data_dir: Path


@pytest.fixture(scope="package")
async def isolated(pg_admin: str, scratch: Path) -> AsyncIterator[Isolated]:
    url = services.create_database(pg_admin, prefix="sc_jobs")
    data_dir = scratch / "jobs-data"
    runtime = build_runtime(make_settings(url, data_dir, egress_allow_loopback=True))
    try:
        migrate.upgrade(runtime.db)
        application = create_app(runtime=runtime)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield Isolated(url=url, runtime=runtime, client=c, data_dir=data_dir)
    finally:
        await runtime.db.dispose()
        services.drop_database(pg_admin, url)


@contextlib.asynccontextmanager
async def running_worker(
    runtime: Runtime, tasks: procrastinate.Blueprint, queue: str, **worker_options: Any
) -> AsyncIterator[procrastinate.App]:
    """An app with the test's tasks and a worker on ``queue``; its jobs are deleted after."""
    app = procrastinate.App(
        connector=PsycopgConnector(conninfo=conninfo(runtime.db), min_size=1, max_size=2)
    )
    app.add_tasks_from(tasks, namespace=NAMESPACE)
    await app.open_async()
    worker = asyncio.create_task(
        app.run_worker_async(
            queues=[queue],
            install_signal_handlers=False,
            fetch_job_polling_interval=0.2,
            delete_jobs="never",
            shutdown_graceful_timeout=5,
            **worker_options,
        )
    )
    try:
        yield app
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await worker
        async with runtime.db.sessionmaker() as session, session.begin():
            await session.execute(
                text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": queue}
            )
        await app.close_async()
