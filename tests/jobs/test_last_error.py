"""A job's last failure text is kept, redacted and capped, and the jobs API shows it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import procrastinate
import pytest

from sprintconnect.jobs.app import NAMESPACE
from sprintconnect.jobs.failures import MAX_ERROR, WORKER_MIDDLEWARE, error_text
from sprintconnect.jobs.retry import JitteredBackoff
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant
from tests.jobs.conftest import running_worker
from tests.jobs.test_dead_letter import ADMIN, wait_state

QUEUE = "sc-tests-last-error"
TASK = f"{NAMESPACE}:tests.leaky"
LEAKY_URL = "postgresql://app:pa55w0rd@db.internal:5432/sc?sslpassword=s3cr3t&token=t0k3n"

leaky_tasks = procrastinate.Blueprint()


@leaky_tasks.task(
    name="tests.leaky",
    queue=QUEUE,
    retry=JitteredBackoff(max_attempts=2, base_seconds=0.05, max_seconds=0.1),
)
async def leaky(attempt_note: str) -> None:
    """Always fails, with a message holding credentials in a URL and a very long tail."""
    raise ConnectionError(f"{attempt_note}: could not reach {LEAKY_URL} " + "x" * 10_000)


@pytest.fixture(scope="module")
async def job_app(runtime: Runtime) -> AsyncIterator[procrastinate.App]:
    """A worker run as ``JobRunner`` runs it: with the failure-recording middleware."""
    async with running_worker(
        runtime, leaky_tasks, QUEUE, worker_middleware=WORKER_MIDDLEWARE
    ) as app:
        yield app


async def test_a_dead_jobs_last_error_is_shown_redacted_and_capped(
    client: httpx.AsyncClient, operator: Tenant, job_app: procrastinate.App
) -> None:
    job_id = await job_app.configure_task(TASK).defer_async(attempt_note="leaky run")
    dead = await wait_state(client, operator.headers, job_id, "dead")
    error = dead["last_error"]
    assert error.startswith("ConnectionError: leaky run: could not reach postgresql://")
    assert "db.internal:5432" in error
    for secret in ("pa55w0rd", "s3cr3t", "t0k3n", "app:"):
        assert secret not in error
    assert len(error) <= MAX_ERROR
    listed = await client.get(ADMIN, params={"task": TASK}, headers=operator.headers)
    (item,) = [j for j in listed.json()["items"] if j["id"] == job_id]
    assert item["last_error"] == error


def test_error_text_redacts_every_credential_shape() -> None:
    cases = {
        "https://user:pw@host/x": "https://[redacted]@host/x",
        "redis://:hunter2@127.0.0.1:6379/0": "redis://[redacted]@127.0.0.1:6379/0",
        "GET http://h/?api_key=abc&x=1": "GET http://h/?api_key=[redacted]&x=1",
        "Authorization: Bearer abc.def": "Authorization: Bearer [redacted]",
        "key sc_abcdefghijkl_" + "A" * 43 + " refused": "key [redacted] refused",
    }
    for message, expected in cases.items():
        assert error_text(RuntimeError(message)) == f"RuntimeError: {expected}"
    assert error_text(RuntimeError()) == "RuntimeError"
    assert len(error_text(RuntimeError("y" * 50_000))) == MAX_ERROR
