"""Health history: timeline, uptime and percentiles over a range, answered from rollups only;
bad ranges are 422; retention prunes raw checks and rollups past their windows."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.health import rollup
from sprintconnect.health.history import floor_hour
from sprintconnect.jobs.app import build_job_app
from sprintconnect.kit import histogram
from sprintconnect.models import HealthCheck, HealthRollup
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, assert_problem
from tests.health.read_support import record, register, transition

# A fixed past day, so that the hours and days of a test do not depend on when it runs.
DAY0 = datetime(2026, 6, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _history(
    client: httpx.AsyncClient, tenant: Tenant, server_id: uuid.UUID, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/api/v1/servers/{server_id}/health/history", params=params, headers=tenant.headers
    )


def _exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[histogram.rank(len(ordered), q) - 1]


async def test_history_gives_uptime_percentiles_timeline_and_buckets(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    # 200 checks over 10 hours: every 10th fails; latencies from 5 to 1000 ms.
    latencies = [5.0 + (i * 37) % 996 for i in range(200)]
    checks = [(DAY0 + timedelta(minutes=3 * i), i % 10 != 0, latencies[i]) for i in range(200)]
    await record(runtime, tenant, server_id, checks)
    await transition(runtime, tenant, server_id, DAY0 - timedelta(days=2), "unknown", "healthy")
    t1 = await transition(
        runtime, tenant, server_id, DAY0 + timedelta(hours=2), "healthy", "unhealthy", "timeout"
    )
    t2 = await transition(
        runtime, tenant, server_id, DAY0 + timedelta(hours=3), "unhealthy", "healthy", "recovered"
    )

    response = await _history(
        client, tenant, server_id, **{"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(hours=10))}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == "2026-06-01T00:00:00Z"
    assert body["to"] == "2026-06-01T10:00:00Z"
    assert body["bucket"] == "hour"
    assert body["checks"] == 200
    assert body["failures"] == 20
    assert body["uptime_percent"] == 90.0
    for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        exact = _exact_quantile(latencies, q)
        assert abs(body["response_ms"][name] - exact) <= 0.1 * exact, (name, body["response_ms"])
    assert body["response_ms"]["mean"] == round(sum(latencies) / 200, 2)
    assert body["status_at_from"] == "healthy"
    assert [(t["id"], t["from_status"], t["to_status"]) for t in body["timeline"]] == [
        (t1, "healthy", "unhealthy"),
        (t2, "unhealthy", "healthy"),
    ]
    assert body["next_cursor"] is None
    buckets = body["buckets"]
    assert len(buckets) == 10
    assert all(b["checks"] == 20 and b["failures"] == 2 for b in buckets)
    assert buckets[0]["start"] == "2026-06-01T00:00:00Z"
    assert buckets[0]["end"] == "2026-06-01T01:00:00Z"
    assert buckets[0]["uptime_percent"] == 90.0
    hour0 = latencies[:20]
    for q, name in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        exact = _exact_quantile(hour0, q)
        assert abs(buckets[0][name] - exact) <= 0.1 * exact, (name, buckets[0])


async def test_a_range_is_widened_to_whole_hours_and_empty_buckets_are_shown(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    await record(runtime, tenant, server_id, [(DAY0 + timedelta(minutes=90), True, 12.0)])

    response = await _history(
        client,
        tenant,
        server_id,
        **{"from": "2026-06-01T00:20:00+02:00", "to": "2026-06-01T03:10:00Z"},
    )

    body = response.json()
    assert body["from"] == "2026-05-31T22:00:00Z"
    assert body["to"] == "2026-06-01T04:00:00Z"
    assert [b["checks"] for b in body["buckets"]] == [0, 0, 0, 1, 0, 0]
    assert body["buckets"][0]["uptime_percent"] is None
    assert body["buckets"][0]["p50_ms"] is None
    assert body["buckets"][0]["p99_ms"] is None
    assert body["uptime_percent"] == 100.0
    assert body["status_at_from"] == "unknown"


async def test_no_checks_in_range_means_no_uptime(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)

    body = (await _history(client, tenant, server_id)).json()

    assert body["checks"] == 0
    assert body["uptime_percent"] is None
    assert body["response_ms"] is None
    assert body["timeline"] == []
    assert body["bucket"] == "hour"
    # The default range: the last 24 hours, widened to whole hours.
    assert len(body["buckets"]) in (24, 25)


async def test_the_default_range_is_the_last_day(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    now = runtime.clock.now()
    await record(
        runtime,
        tenant,
        server_id,
        [(now - timedelta(hours=2), True, 20.0), (now - timedelta(hours=30), False, 20.0)],
    )

    body = (await _history(client, tenant, server_id)).json()

    assert body["checks"] == 1
    assert body["from"] == _iso(floor_hour(now - timedelta(hours=24)))


async def test_ninety_days_answer_from_rollups_alone(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    checks = []
    for day in range(90):
        for minute in (10, 500, 1000):
            ok = not (day % 9 == 0 and minute == 500)
            checks.append((DAY0 + timedelta(days=day, minutes=minute), ok, 10.0 + day))
    await record(runtime, tenant, server_id, checks)
    params = {"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(days=90))}

    before = await _history(client, tenant, server_id, **params)
    # Every raw check goes: the answer is the same, so it never read them.
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(delete(HealthCheck).where(HealthCheck.server_id == server_id))
        left = await session.scalar(
            select(func.count()).select_from(HealthCheck).where(HealthCheck.server_id == server_id)
        )
    assert left == 0
    after = await _history(client, tenant, server_id, **params)

    assert before.status_code == 200, before.text
    assert after.json() == before.json()
    body = before.json()
    assert body["bucket"] == "day"
    assert len(body["buckets"]) == 90
    assert body["checks"] == 270
    assert body["failures"] == 10
    assert body["uptime_percent"] == round(100 * 260 / 270, 3)
    assert all(b["checks"] == 3 for b in body["buckets"])
    assert body["buckets"][0]["failures"] == 1
    assert body["buckets"][1]["failures"] == 0
    p50 = _exact_quantile([latency for _, _, latency in checks], 0.5)
    assert abs(body["response_ms"]["p50"] - p50) <= 0.1 * p50


async def test_bucket_may_be_chosen(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    await record(runtime, tenant, server_id, [(DAY0 + timedelta(hours=30), True, 8.0)])
    params = {"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(days=3))}

    daily = (await _history(client, tenant, server_id, bucket="day", **params)).json()
    hourly = (await _history(client, tenant, server_id, **params)).json()

    assert daily["bucket"] == "day"
    assert [b["checks"] for b in daily["buckets"]] == [0, 1, 0]
    assert hourly["bucket"] == "hour"
    assert len(hourly["buckets"]) == 72


async def test_the_timeline_is_paged(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    statuses = ["unknown", "healthy", "unhealthy", "degraded", "healthy", "unhealthy"]
    ids = [
        await transition(runtime, tenant, server_id, DAY0 + timedelta(minutes=i), a, b)
        for i, (a, b) in enumerate(itertools.pairwise(statuses))
    ]
    params: dict[str, Any] = {"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(hours=1))}

    seen: list[int] = []
    cursor = None
    for _ in range(5):
        page = await _history(
            client, tenant, server_id, limit=2, **params, **({"cursor": cursor} if cursor else {})
        )
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()["timeline"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == ids


async def test_bad_ranges_are_422(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"from": _iso(DAY0), "to": _iso(DAY0)}, "from"),
        ({"from": _iso(DAY0 + timedelta(hours=1)), "to": _iso(DAY0)}, "from"),
        ({"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(days=401))}, "to"),
        ({"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(days=40)), "bucket": "hour"}, "bucket"),
        ({"from": "yesterday"}, "from"),
        ({"from": "0001-01-01T00:30:00+01:00"}, "from"),
        ({"from": "9999-12-31T22:00:00Z", "to": "9999-12-31T23:30:00Z"}, "to"),
        ({"from": "1969-12-31T23:00:00Z", "to": "1970-01-01T01:00:00Z"}, "from"),
        ({"to": "2026-13-01T00:00:00Z"}, "to"),
        ({"bucket": "week"}, "bucket"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"granularity": "hour"}, "granularity"),
    ]
    for params, field in cases:
        response = await _history(client, tenant, server_id, **params)
        body = assert_problem(response, 422)
        assert any(field in map(str, e["loc"]) for e in body["errors"]), (params, body)

    far = await _history(
        client, tenant, server_id, **{"from": _iso(DAY0), "to": _iso(DAY0 + timedelta(days=400))}
    )
    assert far.status_code == 200, far.text


async def test_other_tenants_servers_are_404(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_tenant: Any
) -> None:
    server_id = await register(client, runtime, tenant)
    other = await make_tenant()

    for path in ("health", "health/history"):
        response = await client.get(f"/api/v1/servers/{server_id}/{path}", headers=other.headers)
        assert_problem(response, 404, "server-not-found")
    unknown = await client.get(f"/api/v1/servers/{uuid.uuid4()}/health", headers=tenant.headers)
    assert_problem(unknown, 404, "server-not-found")


async def test_retention_prunes_raw_checks_and_rollups_past_their_windows(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    now = datetime(2027, 1, 1, 12, tzinfo=UTC)
    await record(
        runtime,
        tenant,
        server_id,
        [
            (now - timedelta(days=500), True, 5.0),  # past both windows
            (now - timedelta(days=30), True, 5.0),  # raw row goes, rollup stays
            (now - timedelta(days=2), True, 5.0),  # both stay
        ],
    )

    pruned = await rollup.prune(runtime.db.sessionmaker, runtime.settings, now, batch=100)

    assert pruned.checks >= 2
    assert pruned.rollups >= 1
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        raw = (
            await session.scalars(
                select(HealthCheck.checked_at).where(HealthCheck.server_id == server_id)
            )
        ).all()
        hours = (
            await session.scalars(
                select(HealthRollup.hour)
                .where(HealthRollup.server_id == server_id)
                .order_by(HealthRollup.hour)
            )
        ).all()
    assert raw == [now - timedelta(days=2)]
    assert hours == [floor_hour(now - timedelta(days=30)), floor_hour(now - timedelta(days=2))]


def test_the_workers_run_retention_every_quarter_hour(runtime: Runtime) -> None:
    app = build_job_app(runtime.db)
    schedules = {
        (p.task.name, p.periodic_id): p.cron for p in app.periodic_registry.periodic_tasks.values()
    }

    assert schedules[("sc:health.prune", "retention")] == "*/15 * * * *"
    assert "sc:health.prune" in app.tasks
