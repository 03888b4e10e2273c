"""The decision log (story 8.2): every PDP decision is logged with its id, the policy version
and a hash of its input; a 403 from the PDP names the same decision id."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import structlog

from sprintconnect.authz.decision import Decision, DecisionRequest, Resource, Subject
from sprintconnect.authz.service import Authorizer
from tests.conftest import MemberFactory, Tenant, assert_problem

ORG = "00000000-0000-0000-0000-000000000001"


def _request(**change: Any) -> DecisionRequest:
    values: dict[str, Any] = {
        "org_id": ORG,
        "policy_version": 3,
        "subject": Subject(
            "u1", frozenset({"servers:write", "servers:read"}), frozenset({"engineer"}), "user"
        ),
        "action": "servers:write",
        "resource": Resource("Server", "s1", {"environment": "staging", "tags": ["a"]}),
        "context": {"minute_of_day": 600, "day_of_week": 3, "time_zone": "UTC"},
    }
    values.update(change)
    return DecisionRequest(**values)


def test_the_input_hash_is_sha256_of_the_canonical_input() -> None:
    """A known answer: the canonical form is what the operator guide documents."""
    canonical = json.dumps(
        {
            "org": ORG,
            "version": 3,
            "subject": ["u1", ["servers:read", "servers:write"], ["engineer"], "user"],
            "action": "servers:write",
            "resource": ["Server", "s1", {"environment": "staging", "tags": ["a"]}],
            "context": {"minute_of_day": 600, "day_of_week": 3, "time_zone": "UTC"},
        },
        sort_keys=True,
    )
    expected = "5e4b287175f118a092017816b43fbb72c4b39c502bcb105d227048604367c12b"
    assert hashlib.sha256(canonical.encode()).hexdigest() == expected
    assert _request().input_hash() == expected


def test_any_change_of_input_changes_the_hash() -> None:
    base = _request().input_hash()
    variants = [
        _request(org_id="00000000-0000-0000-0000-000000000002"),
        _request(policy_version=4),
        _request(action="servers:read"),
        _request(subject=Subject("u2", frozenset({"servers:write"}))),
        _request(resource=Resource("Server", "s2")),
        _request(context={"minute_of_day": 601, "day_of_week": 3, "time_zone": "UTC"}),
    ]
    hashes = {v.input_hash() for v in variants}
    assert base not in hashes
    assert len(hashes) == len(variants)


async def test_a_denial_is_logged_and_its_403_names_the_decision(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    with structlog.testing.capture_logs() as logs:
        response = await client.post(
            "/api/v1/servers",
            json={"name": "denied", "url": "https://mcp.example.com/mcp", "auto_discover": False},
            headers=viewer.headers,
        )
    problem = assert_problem(response, 403, "policy-denied")
    [entry] = [e for e in logs if e.get("decision_id") == problem["decision_id"]]
    assert entry["event"] == "authz.decision"
    assert entry["result"] == "deny"
    assert entry["action"] == "servers:write"
    assert entry["org_id"] == str(tenant.org_id)
    assert entry["policy_version"] == 0
    assert len(entry["input_hash"]) == 64
    int(entry["input_hash"], 16)
    assert entry["failed"] is False


async def test_a_policy_denial_logs_the_policy_version(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    text = '@id("no-reads")\nforbid (principal, action == Action::"servers:read", resource);'
    published = await client.post(
        "/api/v1/policies", json={"text": text, "comment": "lock"}, headers=tenant.headers
    )
    assert published.status_code == 201, published.text
    version = published.json()["version"]
    with structlog.testing.capture_logs() as logs:
        response = await client.get("/api/v1/servers", headers=tenant.headers)
    problem = assert_problem(response, 403, "policy-denied")
    [entry] = [e for e in logs if e.get("decision_id") == problem["decision_id"]]
    assert entry["policy_version"] == version
    assert entry["result"] == "deny"

    # Allowed decisions are logged too, with the same shape.
    with structlog.testing.capture_logs() as logs:
        allowed = await client.get("/api/v1/api-keys", headers=tenant.headers)
    assert allowed.status_code == 200
    decisions = [e for e in logs if e["event"] == "authz.decision"]
    assert decisions
    assert all(d["result"] == "allow" and d["policy_version"] == version for d in decisions)
    assert all(len(d["decision_id"]) == 32 and len(d["input_hash"]) == 64 for d in decisions)


class _BrokenPDP:
    """A PDP that fails: the fault a real PDP cannot be made to show on demand."""

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        raise ConnectionError("down")

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        raise ConnectionError("down")


async def test_a_failed_pdp_is_a_logged_deny() -> None:
    authorizer = Authorizer(_BrokenPDP())
    request = _request()
    with structlog.testing.capture_logs() as logs:
        decision = await authorizer.decide(request, "")
    assert not decision.allowed
    assert decision.failed
    [entry] = [e for e in logs if e["event"] == "authz.decision"]
    assert entry["decision_id"] == decision.decision_id
    assert entry["failed"] is True
    assert entry["result"] == "deny"
    assert entry["input_hash"] == request.input_hash()
    assert entry["policy_version"] == 3
    assert entry["errors"] == ["pdp_error: ConnectionError"]
