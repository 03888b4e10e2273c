"""Introspection (RFC 7662) and revocation (RFC 7009) of access tokens, refresh tokens and API
keys; another organization's tokens are inactive to the caller."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.identity.tokens.support import (
    Account,
    access_token,
    bearer,
    create_account,
)


def basic(account: Account) -> httpx.BasicAuth:
    return httpx.BasicAuth(account.client_id, account.secret)


async def introspect(client: httpx.AsyncClient, token: str, **kw: object) -> httpx.Response:
    return await client.post("/oauth/introspect", data={"token": token}, **kw)  # type: ignore[arg-type]


async def test_introspection_of_tokens_and_keys(
    tclient: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    auditor = await create_account(tclient, tenant, ["engineer"])  # holds api_keys:read
    subject = await create_account(tclient, tenant, ["viewer"])
    foreign = await create_account(tclient, other, ["viewer"])
    token = await access_token(tclient, subject)

    active = await introspect(tclient, token, auth=basic(auditor))
    assert active.status_code == 200, active.text
    body = active.json()
    assert body["active"] is True
    assert body["sub"] == subject.user_id
    assert body["client_id"] == subject.client_id
    assert body["token_type"] == "Bearer"
    assert body["org"] == str(tenant.org_id)
    assert body["sa"] == subject.id
    assert active.headers["cache-control"] == "no-store"

    with_key = await introspect(tclient, token, headers=tenant.headers)
    assert with_key.json()["active"] is True
    with_token = await introspect(
        tclient, token, headers=bearer(await access_token(tclient, auditor))
    )
    assert with_token.json()["active"] is True

    key = await introspect(tclient, tenant.key, auth=basic(auditor))
    assert key.json()["active"] is True
    assert key.json()["token_type"] == "api_key"

    # Another organization's caller sees nothing of ours, and we nothing of theirs.
    foreign_token = await access_token(tclient, foreign)
    assert (await introspect(tclient, foreign_token, auth=basic(auditor))).json() == {
        "active": False
    }
    assert (await introspect(tclient, other.key, auth=basic(auditor))).json() == {"active": False}
    assert (await introspect(tclient, token, headers=other.headers)).json() == {"active": False}
    assert (await introspect(tclient, "garbage", auth=basic(auditor))).json() == {"active": False}

    # Introspection needs api_keys:read; a viewer account does not hold it.
    denied = await introspect(tclient, token, auth=basic(subject))
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_scope"
    anonymous = await introspect(tclient, token)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"


async def test_revocation_of_api_keys_and_cross_org(
    tclient: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    admin = await create_account(tclient, tenant, ["admin"])
    subject = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, subject)

    # Another organization cannot revoke our token: 200, and nothing changes.
    theirs = await tclient.post("/oauth/revoke", data={"token": token}, headers=other.headers)
    assert theirs.status_code == 200
    assert (await tclient.get("/api/v1/me", headers=bearer(token))).status_code == 200
    theirs_key = await tclient.post(
        "/oauth/revoke", data={"token": tenant.key}, headers=other.headers
    )
    assert theirs_key.status_code == 200
    assert (await tclient.get("/api/v1/me", headers=tenant.headers)).status_code == 200

    # A viewer account may not revoke others' tokens (its own, yes).
    member_key = await tclient.post(
        "/api/v1/api-keys", json={"name": "k", "scopes": ["read"]}, headers=tenant.headers
    )
    key = member_key.json()["key"]
    other_token = await access_token(tclient, admin)
    await tclient.post("/oauth/revoke", data={"token": other_token}, auth=basic(subject))
    assert (await tclient.get("/api/v1/me", headers=bearer(other_token))).status_code == 200

    # An admin account revokes an API key of its organization: refused from then on.
    revoked = await tclient.post("/oauth/revoke", data={"token": key}, auth=basic(admin))
    assert revoked.status_code == 200, revoked.text
    assert_problem(await tclient.get("/api/v1/me", headers=bearer(key)), 401, "credentials-revoked")
    assert (await introspect(tclient, key, auth=basic(admin))).json() == {"active": False}

    # And an access token, by an API key holding api_keys:write.
    by_key = await tclient.post("/oauth/revoke", data={"token": token}, headers=tenant.headers)
    assert by_key.status_code == 200
    assert_problem(await tclient.get("/api/v1/me", headers=bearer(token)), 401, "invalid-token")
    assert (await introspect(tclient, token, auth=basic(admin))).json() == {"active": False}
    missing = await tclient.post("/oauth/revoke", data={}, auth=basic(admin))
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
