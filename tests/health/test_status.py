"""The status model: unknown, healthy, unhealthy, degraded (by streak and by time), recovery;
each transition a row and, for the ones others care about, an outbox event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sprintconnect.health.config import Thresholds
from sprintconnect.health.service import event_kind, next_status
from tests.fixtures.flaky_server import FlakyServer
from tests.health.check_support import HealthDb, path_name

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
LIMITS = Thresholds(failures=3, seconds=900)


def test_a_success_is_healthy_and_resets_the_streak() -> None:
    decision = next_status(
        "degraded", ok=True, streak=7, unhealthy_since=T0, now=T0, thresholds=LIMITS
    )
    assert (decision.status, decision.streak, decision.unhealthy_since) == ("healthy", 0, None)


def test_failures_escalate_by_streak() -> None:
    statuses = []
    status, streak, since = "healthy", 0, None
    for minute in range(4):
        decision = next_status(
            status,
            ok=False,
            streak=streak,
            unhealthy_since=since,
            now=T0 + timedelta(minutes=minute),
            thresholds=LIMITS,
            error_class="timeout",
        )
        status, streak, since = decision.status, decision.streak, decision.unhealthy_since
        statuses.append(status)
    assert statuses == ["unhealthy", "unhealthy", "degraded", "degraded"]
    assert since == T0  # set on the first failure, kept


def test_failures_escalate_by_time_before_the_streak() -> None:
    limits = Thresholds(failures=100, seconds=600)
    first = next_status(
        "healthy", ok=False, streak=0, unhealthy_since=None, now=T0, thresholds=limits
    )
    later = next_status(
        first.status,
        ok=False,
        streak=first.streak,
        unhealthy_since=first.unhealthy_since,
        now=T0 + timedelta(seconds=600),
        thresholds=limits,
    )
    assert (first.status, later.status) == ("unhealthy", "degraded")
    assert "unhealthy for 600 s" in later.reason


@pytest.mark.parametrize(
    ("previous", "status", "kind"),
    [
        ("unknown", "healthy", None),
        ("unknown", "unhealthy", "unhealthy"),
        ("healthy", "unhealthy", "unhealthy"),
        ("unhealthy", "degraded", "degraded"),
        ("unhealthy", "healthy", "recovered"),
        ("degraded", "healthy", "recovered"),
        ("degraded", "degraded", None),
    ],
)
def test_which_transitions_are_events(previous: str, status: str, kind: str | None) -> None:
    assert event_kind(previous, status) == kind


async def test_real_checks_walk_the_status_model_and_emit_events(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant = await h.tenant()
    name = path_name()
    server = (await h.register(tenant, flaky.url(name), health={"failure_threshold": 2}))["server"]
    assert server["health"]["status"] == "unknown"
    server_id = server["id"]

    async def check() -> dict[str, object]:
        response = await h.client.post(
            f"/api/v1/servers/{server_id}/health/checks", headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    first = await check()
    assert (first["outcome"], first["status"], first["previous_status"]) == (
        "healthy",
        "healthy",
        "unknown",
    )
    assert isinstance(first["response_ms"], float)
    assert first["response_ms"] > 0
    flaky.set_mode("error", name=name)
    failed = await check()
    assert (failed["status"], failed["error_class"], failed["failure_streak"]) == (
        "unhealthy",
        "protocol_error",
        1,
    )
    assert (await check())["status"] == "degraded"  # the server's threshold: 2
    flaky.set_mode("ok", name=name)
    assert (await check())["status"] == "healthy"

    events = await h.events(tenant)
    assert [e.topic for e in events] == [
        "server.health.unhealthy",
        "server.health.degraded",
        "server.health.recovered",
    ]
    recovered = events[-1]
    assert recovered.idempotency_key == (f"health:{server_id}:{recovered.payload['transition_id']}")
    assert set(recovered.payload) == {
        "server_id",
        "server_name",
        "environment",
        "status",
        "previous_status",
        "at",
        "transition_id",
        "error_class",
        "message",
        "failure_streak",
        "response_ms",
    }
    assert recovered.payload["server_name"] == server["name"]
    assert recovered.payload["environment"] == "staging"
    assert (recovered.payload["status"], recovered.payload["previous_status"]) == (
        "healthy",
        "degraded",
    )
    assert recovered.payload["at"].endswith("Z")
    assert events[0].payload["error_class"] == "protocol_error"
    row = await h.health_row(tenant, server_id)
    assert (row.status, row.failure_streak, row.unhealthy_since) == ("healthy", 0, None)
    checks = await h.checks(tenant, server_id)
    assert [c.outcome for c in checks] == ["healthy", "unhealthy", "unhealthy", "healthy"]
    assert {c.trigger for c in checks} == {"manual"}


async def test_escalation_by_time_with_the_controlled_clock(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant = await h.tenant()
    name = path_name()
    server_id = (
        await h.register(
            tenant,
            flaky.url(name),
            health={"failure_threshold": 1000, "degraded_after_seconds": 600},
        )
    )["server"]["id"]
    flaky.set_mode("close", name=name)
    url = f"/api/v1/servers/{server_id}/health/checks"
    first = (await h.client.post(url, headers=tenant.headers)).json()
    assert first["status"] == "unhealthy"
    assert first["error_class"] in ("protocol_error", "unknown", "connection_refused")
    h.clock.offset += timedelta(seconds=599)
    assert (await h.client.post(url, headers=tenant.headers)).json()["status"] == "unhealthy"
    h.clock.offset += timedelta(seconds=2)
    assert (await h.client.post(url, headers=tenant.headers)).json()["status"] == "degraded"


async def test_a_hanging_server_is_a_timeout_within_the_deadline(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant = await h.tenant()
    name = path_name()
    server_id = (await h.register(tenant, flaky.url(name)))["server"]["id"]
    flaky.set_mode("hang", name=name)
    response = await h.client.post(
        f"/api/v1/servers/{server_id}/health/checks", headers=tenant.headers
    )
    body = response.json()
    assert (body["outcome"], body["error_class"]) == ("unhealthy", "timeout")
    assert "did not answer within 2 s" in body["message"]


async def test_a_flapping_server_alternates_and_each_change_is_one_event(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant = await h.tenant()
    name = path_name()
    server_id = (await h.register(tenant, flaky.url(name), health={"failure_threshold": 5}))[
        "server"
    ]["id"]
    flaky.set_mode("flap", name=name)
    outcomes = []
    for _ in range(4):
        response = await h.client.post(
            f"/api/v1/servers/{server_id}/health/checks", headers=tenant.headers
        )
        outcomes.append(response.json()["outcome"])
    assert outcomes == ["unhealthy", "healthy", "unhealthy", "healthy"]
    topics = [e.topic for e in await h.events(tenant)]
    assert topics == [
        "server.health.unhealthy",
        "server.health.recovered",
        "server.health.unhealthy",
        "server.health.recovered",
    ]
