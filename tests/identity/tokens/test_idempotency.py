"""Idempotency-Key with access tokens: a retry is answered from the first request, keys
belong to the user behind the token (any of its tokens), and a DPoP-bound retry still needs a
fresh proof of its key."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import Role
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, assert_problem
from tests.identity.tokens.support import (
    PUBLIC_URL,
    DpopKey,
    access_token,
    bearer,
    client_token,
    create_account,
)

ROLES = "/api/v1/roles"


def _role() -> dict[str, Any]:
    return {"name": f"idem-{uuid.uuid4().hex[:8]}", "permissions": ["servers:read"]}


async def _roles_named(runtime: Runtime, tenant: Tenant, name: str) -> int:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        stmt = select(func.count()).select_from(Role).where(Role.name == name)
        return int(await session.scalar(stmt) or 0)


async def test_a_retry_with_a_token_is_replayed_once_and_refused_for_another_body(
    tclient: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    account = await create_account(tclient, tenant, ["admin"])
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    body = _role()
    first = await tclient.post(
        ROLES, json=body, headers={**bearer(await access_token(tclient, account)), **key}
    )
    assert first.status_code == 201, first.text
    # Another token of the same account (a client that got a new one meanwhile) shares the key.
    retry = await tclient.post(
        ROLES, json=body, headers={**bearer(await access_token(tclient, account)), **key}
    )
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert await _roles_named(runtime, tenant, body["name"]) == 1
    other = await tclient.post(
        ROLES,
        json=_role(),
        headers={**bearer(await access_token(tclient, account)), **key},
    )
    assert_problem(other, 422, "idempotency-key-reused")


async def test_another_callers_key_of_the_same_name_is_its_own(
    tclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Keys are filed under the user behind the token: another account's equal key is new."""
    one = await create_account(tclient, tenant, ["admin"])
    two = await create_account(tclient, tenant, ["admin"])
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    first = await tclient.post(
        ROLES, json=_role(), headers={**bearer(await access_token(tclient, one)), **key}
    )
    second = await tclient.post(
        ROLES, json=_role(), headers={**bearer(await access_token(tclient, two)), **key}
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers


async def test_a_dpop_bound_retry_needs_a_fresh_proof(
    tclient: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    account = await create_account(tclient, tenant, ["admin"])
    dpop = DpopKey()
    issued = await client_token(
        tclient, account, headers={"DPoP": dpop.proof("POST", PUBLIC_URL + "/oauth/token")}
    )
    token = issued.json()["access_token"]

    def headers(proof: str | None) -> dict[str, str]:
        sent = {"Authorization": f"DPoP {token}", "Idempotency-Key": key}
        if proof is not None:
            sent["DPoP"] = proof
        return sent

    key = f"bound-{uuid.uuid4()}"
    body = _role()
    url = PUBLIC_URL + ROLES
    first = await tclient.post(
        ROLES, json=body, headers=headers(dpop.proof("POST", url, access_token=token))
    )
    assert first.status_code == 201, first.text
    retry = await tclient.post(
        ROLES, json=body, headers=headers(dpop.proof("POST", url, access_token=token))
    )
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    # Without a proof the replay is refused as the route would refuse the request.
    assert_problem(await tclient.post(ROLES, json=body, headers=headers(None)), 401)
    assert await _roles_named(runtime, tenant, body["name"]) == 1
