"""The decision points themselves: Cedar's fail-closed rules, and OPA against a fake server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sprintconnect.authz.cedar import CedarPDP, PolicyInvalid, check_org_policies
from sprintconnect.authz.decision import Decision, DecisionRequest, Resource, Subject
from sprintconnect.authz.opa import OpaPDP
from sprintconnect.authz.service import Authorizer
from tests.integration.processes import free_port

CONTEXT = {"minute_of_day": 600, "day_of_week": 3, "time_zone": "UTC"}
SERVER = Resource("Server", "s1", {"name": "s1", "environment": "staging", "tags": ["a"]})


def ask(
    action: str = "servers:read", resource: Resource = SERVER, **subject: Any
) -> DecisionRequest:
    who = Subject(
        id=subject.get("id", "u1"),
        permissions=frozenset(subject.get("permissions", {"servers:read", "servers:write"})),
        roles=frozenset(subject.get("roles", {"engineer"})),
    )
    return DecisionRequest("org", 1, who, action, resource, dict(CONTEXT))


async def test_rbac_production_and_role_membership() -> None:
    pdp = CedarPDP()
    assert (await pdp.decide(ask(), "")).allowed
    assert not (await pdp.decide(ask("servers:write", permissions={"servers:read"}), "")).allowed
    prod = Resource("Server", "p", {"name": "p", "environment": "production", "tags": []})
    assert not (await pdp.decide(ask(resource=prod), "")).allowed
    assert (
        await pdp.decide(ask(resource=prod, permissions={"servers:read", "servers:production"}), "")
    ).allowed
    only_admins = 'forbid (principal, action, resource) unless { principal in Role::"admin" };'
    assert not (await pdp.decide(ask(), only_admins)).allowed
    assert (await pdp.decide(ask(roles={"admin"}), only_admins)).allowed


async def test_a_forbid_that_errors_at_runtime_denies_although_cedar_would_allow() -> None:
    # Passes schema validation, overflows at evaluation: Cedar skips the forbid and allows.
    overflow = (
        "forbid (principal, action, resource) "
        "when { context.minute_of_day * 9223372036854775807 > 1 };"
    )
    check_org_policies(overflow)
    decision = await CedarPDP().decide(ask(), overflow)
    assert decision.allowed is False
    assert any("overflow" in e for e in decision.errors), decision.errors


async def test_missing_attributes_or_unknown_types_deny() -> None:
    pdp = CedarPDP()
    bare = Resource("Server", "s", {})
    assert not (await pdp.decide(ask(resource=bare), "")).allowed
    alien = Resource("Spaceship", "x", {})
    decision = await pdp.decide(ask(resource=alien), "")
    assert not decision.allowed
    assert decision.errors
    no_context = DecisionRequest("o", 1, ask().subject, "servers:read", SERVER, {})
    assert not (await pdp.decide(no_context, "")).allowed


async def test_obligations_come_from_the_policies_that_allowed() -> None:
    text = """@id("tag-a") @obligation("redact_credentials")
permit (principal, action, resource is Server) when { resource.tags.contains("a") };
@id("never") @obligation("should_not_appear")
permit (principal, action, resource is Server) when { resource.tags.contains("zzz") };"""
    decision = await CedarPDP().decide(ask(), text)
    assert decision.allowed
    assert decision.obligations == ("redact_credentials",)
    assert "tag-a" in decision.reasons


async def test_policy_sets_are_parsed_once_per_text() -> None:
    pdp = CedarPDP()
    first = await pdp.compiled("forbid (principal, action, resource) when { false };")
    again = await pdp.compiled("forbid (principal, action, resource) when { false };")
    assert first is again


async def test_batch_decisions_match_single_ones() -> None:
    pdp = CedarPDP()
    requests = [ask(), ask("servers:write", permissions={"servers:read"}), ask()]
    batch = await pdp.decide_many(requests, "")
    singles = [await pdp.decide(r, "") for r in requests]
    assert [d.allowed for d in batch] == [d.allowed for d in singles] == [True, False, True]


def test_invalid_text_lists_every_problem() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        check_org_policies(
            "forbid (principal, action, resource) when { resource.a == 1 };\n"
            "forbid (principal, action, resource) when { principal.b == 1 };"
        )
    assert len(raised.value.problems) >= 2


async def test_authorizer_gates_on_role_permissions_before_any_pdp() -> None:
    class AllowAll:
        async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
            return Decision(allowed=True)

        async def decide_many(
            self, requests: list[DecisionRequest], org_policies: str
        ) -> list[Decision]:
            return [Decision(allowed=True) for _ in requests]

    authorizer = Authorizer(AllowAll())
    decision = await authorizer.decide(ask("users:write"), "")
    assert not decision.allowed
    assert decision.reasons == ("base:rbac",)


# --- OPA -----------------------------------------------------------------------------------


class FakeOpa:
    """A tiny OPA stand-in whose answer a test chooses: allow, deny, error, garbage, slow."""

    def __init__(self) -> None:
        self.mode = "allow"
        self.inputs: list[dict[str, Any]] = []

    async def handle(self, request: Request) -> Response:
        self.inputs.append((await request.json())["input"])
        if self.mode == "slow":
            await asyncio.sleep(2)
        answers: dict[str, Response] = {
            "allow": JSONResponse({"result": {"allow": True, "obligations": ["audit:full"]}}),
            "allow_bool": JSONResponse({"result": True}),
            "deny": JSONResponse({"result": {"allow": False}}),
            "undefined": JSONResponse({}),
            "error": PlainTextResponse("boom", status_code=500),
            "garbage": PlainTextResponse("{not json"),
            "string": JSONResponse({"result": "true"}),
            "slow": JSONResponse({"result": True}),
        }
        return answers[self.mode]


@pytest.fixture(scope="module")
def fake_opa() -> Iterator[tuple[FakeOpa, str]]:
    fake = FakeOpa()
    app = Starlette(routes=[Route("/v1/data/sprintconnect/allow", fake.handle, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield fake, f"http://127.0.0.1:{port}/v1/data/sprintconnect/allow"
    server.should_exit = True
    thread.join(5)


@pytest.mark.parametrize(
    ("mode", "allowed"),
    [
        ("allow", True),
        ("allow_bool", True),
        ("deny", False),
        ("undefined", False),
        ("error", False),
        ("garbage", False),
        ("string", False),
        ("slow", False),
    ],
)
async def test_opa_allows_only_on_a_clear_yes(
    fake_opa: tuple[FakeOpa, str], mode: str, allowed: bool
) -> None:
    fake, url = fake_opa
    fake.mode = mode
    pdp = OpaPDP(url, timeout_seconds=0.5)
    try:
        decision = await Authorizer(pdp, timeout_seconds=1.0).decide(ask(), "")
    finally:
        await pdp.aclose()
    assert decision.allowed is allowed
    sent = fake.inputs[-1]
    assert sent["action"] == "servers:read"
    assert sent["subject"]["permissions"] == ["servers:read", "servers:write"]
    assert json.dumps(sent)  # the input is plain JSON
    if mode == "allow":
        assert decision.obligations == ("audit:full",)
        assert decision.duties.audit_full  # parsed with the same vocabulary as Cedar's


async def test_opa_unreachable_denies() -> None:
    pdp = OpaPDP(f"http://127.0.0.1:{free_port()}/v1/data/x", timeout_seconds=0.5)
    try:
        assert not (await pdp.decide(ask(), "")).allowed
    finally:
        await pdp.aclose()
