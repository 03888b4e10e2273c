"""The dead-letter queue: a job that keeps failing ends dead; operators see, replay, discard it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import procrastinate
import pytest
from prometheus_client import REGISTRY

from sprintconnect.jobs.app import NAMESPACE
from sprintconnect.jobs.retry import JitteredBackoff
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.jobs.conftest import issue_key, running_worker

QUEUE = "sc-tests-dead-letter"
TASK = f"{NAMESPACE}:tests.flaky"
ADMIN = "/api/v1/admin/jobs"

flaky_tasks = procrastinate.Blueprint()
FAILING: dict[str, bool] = {}
RUNS: dict[str, int] = {}


@flaky_tasks.task(
    name="tests.flaky",
    queue=QUEUE,
    retry=JitteredBackoff(max_attempts=3, base_seconds=0.05, max_seconds=0.1),
)
async def flaky(marker: str, secret_token: str | None = None) -> None:
    """Fails while FAILING[marker] is set; counts its runs."""
    RUNS[marker] = RUNS.get(marker, 0) + 1
    if FAILING.get(marker, True):
        raise RuntimeError(f"flaky task {marker} failed on purpose")


@pytest.fixture(scope="module")
async def job_app(runtime: Runtime) -> AsyncIterator[procrastinate.App]:
    """An app built as jobs/app.py builds it, with the test task, and a worker on its queue."""
    async with running_worker(runtime, flaky_tasks, QUEUE) as app:
        yield app


async def defer(app: procrastinate.App, *, failing: bool, **extra: Any) -> tuple[str, int]:
    token = uuid.uuid4().hex
    FAILING[token] = failing
    job_id = await app.configure_task(TASK).defer_async(marker=token, **extra)
    return token, job_id


async def wait_state(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: int, state: str, seconds: float = 20
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        answer = await client.get(f"{ADMIN}/{job_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["state"] == state:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {job_id} still {body['state']}, not {state}: {body}")
        await asyncio.sleep(0.1)


def dead_counter(task: str) -> float:
    return REGISTRY.get_sample_value("sprintconnect_jobs_dead_total", {"task": task}) or 0.0


async def test_a_failing_job_ends_dead_and_a_replay_runs_it_again(
    client: httpx.AsyncClient, operator: Tenant, job_app: procrastinate.App
) -> None:
    dead_before = dead_counter(TASK)
    token, job_id = await defer(job_app, failing=True, secret_token="hunter2")
    dead = await wait_state(client, operator.headers, job_id, "dead")
    assert RUNS[token] == 3  # max_attempts
    assert dead["attempts"] == 3
    assert dead["task"] == TASK
    assert dead["queue"] == QUEUE
    assert dead["last_event"]["type"] == "failed"
    assert dead["args"] == {"marker": token, "secret_token": "[redacted]"}
    assert dead_counter(TASK) == dead_before + 1

    listed = await client.get(
        ADMIN, params={"state": "dead", "task": TASK}, headers=operator.headers
    )
    assert listed.status_code == 200, listed.text
    assert job_id in [j["id"] for j in listed.json()["items"]]
    assert {j["state"] for j in listed.json()["items"]} == {"dead"}
    assert "hunter2" not in listed.text

    FAILING[token] = False
    replayed = await client.post(f"{ADMIN}/{job_id}/replay", headers=operator.headers)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["state"] in ("queued", "running", "succeeded")
    done = await wait_state(client, operator.headers, job_id, "succeeded", seconds=10)
    assert RUNS[token] == 4
    # procrastinate counts the replay itself as an attempt (retry_job_v2), then the run.
    assert done["attempts"] == 5

    again = await client.post(f"{ADMIN}/{job_id}/replay", headers=operator.headers)
    body = assert_problem(again, 409, "job-not-dead")
    assert "succeeded" in body["detail"]


async def test_discard_removes_a_dead_job_and_only_a_dead_one(
    client: httpx.AsyncClient, operator: Tenant, job_app: procrastinate.App
) -> None:
    _, job_id = await defer(job_app, failing=True)
    await wait_state(client, operator.headers, job_id, "dead")
    assert (
        await client.post(f"{ADMIN}/{job_id}/discard", headers=operator.headers)
    ).status_code == 204
    assert_problem(await client.get(f"{ADMIN}/{job_id}", headers=operator.headers), 404)
    assert_problem(
        await client.post(f"{ADMIN}/{job_id}/discard", headers=operator.headers),
        404,
        "job-not-found",
    )
    assert_problem(
        await client.post(f"{ADMIN}/{job_id}/replay", headers=operator.headers),
        404,
        "job-not-found",
    )

    _, ok_id = await defer(job_app, failing=False)
    await wait_state(client, operator.headers, ok_id, "succeeded")
    assert_problem(
        await client.post(f"{ADMIN}/{ok_id}/discard", headers=operator.headers),
        409,
        "job-not-dead",
    )
    assert (await client.get(f"{ADMIN}/{ok_id}", headers=operator.headers)).status_code == 200


async def test_stats_count_the_dead_and_feed_the_gauge(
    client: httpx.AsyncClient, operator: Tenant, job_app: procrastinate.App
) -> None:
    before = (await client.get(f"{ADMIN}/stats", headers=operator.headers)).json()
    _, job_id = await defer(job_app, failing=True)
    await wait_state(client, operator.headers, job_id, "dead")
    answer = await client.get(f"{ADMIN}/stats", headers=operator.headers)
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["dead"] == before["dead"] + 1
    assert after["dead_by_task"][TASK] == before["dead_by_task"].get(TASK, 0) + 1
    assert set(after) >= {"queued", "running", "succeeded", "dead", "cancelled", "aborted"}
    assert REGISTRY.get_sample_value("sprintconnect_jobs", {"state": "dead"}) == after["dead"]
    metrics = await client.get("/metrics")
    assert f'sprintconnect_jobs{{state="dead"}} {float(after["dead"])}' in metrics.text


async def test_listing_pages_newest_first(
    client: httpx.AsyncClient, operator: Tenant, job_app: procrastinate.App
) -> None:
    ids = [(await defer(job_app, failing=False))[1] for _ in range(3)]
    for job_id in ids:
        await wait_state(client, operator.headers, job_id, "succeeded")
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"task": TASK, "state": "succeeded", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(ADMIN, params=params, headers=operator.headers)).json()
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert set(ids) <= set(seen)
    assert len(seen) == len(set(seen))

    for bad in ("nope", "WyJ4Il0", "Wy0xXQ"):  # garbage, ["x"], [-1]
        assert_problem(
            await client.get(ADMIN, params={"cursor": bad}, headers=operator.headers),
            422,
            "invalid-cursor",
        )
    assert_problem(
        await client.get(ADMIN, params={"state": "failed"}, headers=operator.headers), 422
    )
    assert_problem(await client.get(f"{ADMIN}/0", headers=operator.headers), 422)
    assert_problem(await client.get(f"{ADMIN}/{2**63}", headers=operator.headers), 422)
    assert_problem(
        await client.get(f"{ADMIN}/{2**63 - 1}", headers=operator.headers), 404, "job-not-found"
    )


async def test_only_platform_operators_reach_the_job_api(
    client: httpx.AsyncClient, tenant: Tenant, operator: Tenant, runtime: Runtime
) -> None:
    # An organization's admin is not a platform operator.
    for method, path in (
        ("GET", ADMIN),
        ("GET", f"{ADMIN}/stats"),
        ("GET", f"{ADMIN}/1"),
        ("POST", f"{ADMIN}/1/replay"),
        ("POST", f"{ADMIN}/1/discard"),
    ):
        answer = await client.request(method, path, headers=tenant.headers)
        assert_problem(answer, 403, "super-admin-required")
        assert_problem(await client.request(method, path), 401)

    # An operator's read-only key reads, but cannot change jobs.
    read_only = await issue_key(runtime, operator, ["read"])
    assert (await client.get(f"{ADMIN}/stats", headers=read_only)).status_code == 200
    assert (await client.get(ADMIN, headers=read_only)).status_code == 200
    assert_problem(
        await client.post(f"{ADMIN}/1/replay", headers=read_only), 403, "insufficient-scope"
    )
    assert_problem(
        await client.post(f"{ADMIN}/1/discard", headers=read_only), 403, "insufficient-scope"
    )


async def test_a_key_without_a_user_is_no_operator(
    client: httpx.AsyncClient, make_tenant: TenantFactory, runtime: Runtime
) -> None:
    """Keys made by the CLI belong to no user: never a platform operator."""
    from sprintconnect.api_key.service import ApiKeyService
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.identity.principal import Actor

    tenant = await make_tenant()
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        issued = await ApiKeyService(session, runtime.keyring, runtime.clock).issue(
            org_id=tenant.org_id,
            name="cli key",
            description=None,
            scopes=["admin"],
            expires_at=None,
            created_by_user_id=None,
            actor=Actor("system", "tests"),
        )
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    assert_problem(await client.get(ADMIN, headers=headers), 403, "super-admin-required")


def test_building_the_job_app_twice_keeps_task_names(runtime: Runtime) -> None:
    from sprintconnect.jobs.app import build_job_app

    first, second = build_job_app(runtime.db), build_job_app(runtime.db)
    assert "sc:discovery.run" in first.tasks
    assert "sc:discovery.run" in second.tasks
