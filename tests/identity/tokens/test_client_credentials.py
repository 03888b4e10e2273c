"""Client credentials over HTTP: tokens, their claims, /me as the service account, scopes."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.identity.tokens.support import (
    PUBLIC_URL,
    TokenApp,
    TokenAppFactory,
    access_token,
    bearer,
    claims_of,
    client_token,
    create_account,
    header_of,
)


async def test_service_account_token_acts_as_the_account(
    tclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    account = await create_account(tclient, tenant, ["engineer"])
    answer = await client_token(tclient, account)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "admin"
    assert "refresh_token" not in body
    token = body["access_token"]
    header, claims = header_of(token), claims_of(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"]
    assert claims["iss"] == PUBLIC_URL
    assert claims["aud"] == PUBLIC_URL
    assert claims["sub"] == account.user_id
    assert claims["org"] == str(tenant.org_id)
    assert claims["sa"] == account.id
    assert claims["client_id"] == account.client_id
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]

    me = await tclient.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    who = me.json()
    assert who["credential"] == "token"
    assert who["service_account_id"] == account.id
    assert who["user_id"] == account.user_id
    assert who["roles"] == ["engineer"]
    assert "servers:write" in who["permissions"]
    assert "users:write" not in who["permissions"]


async def test_client_secret_post_works_too(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account, basic=False)
    assert (await tclient.get("/api/v1/me", headers=bearer(token))).status_code == 200


async def test_a_permission_the_roles_lack_is_403(
    tclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    assert (await tclient.get("/api/v1/servers", headers=bearer(token))).status_code == 200
    denied = await tclient.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["read"]}, headers=bearer(token)
    )
    assert_problem(denied, 403)


async def test_scope_narrows_the_token(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    account = await create_account(tclient, tenant, ["engineer"])
    token = await access_token(tclient, account, scope="servers:read openid")
    assert claims_of(token)["scope"] == "servers:read"
    me = (await tclient.get("/api/v1/me", headers=bearer(token))).json()
    assert me["permissions"] == ["servers:read"]
    refused = await tclient.get("/api/v1/api-keys", headers=bearer(token))
    assert_problem(refused, 403, "insufficient-scope")


async def test_wrong_secret_is_invalid_client_and_audited(
    token_app: TokenApp, tenant: Tenant
) -> None:
    tclient = token_app.client
    account = await create_account(tclient, tenant, ["viewer"])
    account.secret = "scs_" + "x" * 43
    basic = await client_token(tclient, account)
    assert basic.status_code == 401
    assert basic.json()["error"] == "invalid_client"
    assert basic.headers["www-authenticate"].startswith("Basic")
    posted = await client_token(tclient, account, basic=False)
    assert posted.status_code == 401
    assert posted.json()["error"] == "invalid_client"
    async with token_app.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = (
            await session.scalars(select(AuditEvent.tag).where(AuditEvent.target_id == account.id))
        ).all()
    assert "org:service_account:auth_failed" in tags
    assert "org:service_account:created" in tags


async def test_bad_requests_get_rfc6749_errors(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    auth = httpx.BasicAuth(account.client_id, account.secret)
    cases = [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "root"}, "invalid_scope"),
        (
            {"grant_type": "client_credentials", "resource": "https://elsewhere.example"},
            "invalid_target",
        ),
    ]
    for form, error in cases:
        answer = await tclient.post("/oauth/token", data=form, auth=auth)
        assert answer.status_code == 400, (form, answer.text)
        assert answer.json()["error"] == error
        assert answer.json()["error_description"]
    repeated = await tclient.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    assert repeated.status_code == 400
    assert repeated.json()["error"] == "invalid_request"
    as_json = await tclient.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, auth=auth
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    unknown = await tclient.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth("sa_unknownunknown0000", "scs_x"),
    )
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"
    public = await tclient.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "sprintconnect-cli"}
    )
    assert public.status_code == 400
    assert public.json()["error"] == "unauthorized_client"
    resource = await tclient.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "resource": PUBLIC_URL},
        auth=auth,
    )
    assert resource.status_code == 200, resource.text


async def test_metadata_and_jwks(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    meta = await tclient.get("/.well-known/oauth-authorization-server")
    assert meta.status_code == 200
    assert "max-age" in meta.headers["cache-control"]
    doc = meta.json()
    assert doc["issuer"] == PUBLIC_URL
    assert doc["token_endpoint"] == PUBLIC_URL + "/oauth/token"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "ES256" in doc["dpop_signing_alg_values_supported"]
    assert doc["introspection_endpoint"].endswith("/oauth/introspect")
    assert doc["revocation_endpoint"].endswith("/oauth/revoke")
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    jwks = await tclient.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert "max-age" in jwks.headers["cache-control"]
    keys = jwks.json()["keys"]
    assert header_of(token)["kid"] in {k["kid"] for k in keys}
    assert all(set(k) >= {"kty", "crv", "x", "y", "kid"} and "d" not in k for k in keys)


async def test_guessing_secrets_is_throttled(
    make_token_app: TokenAppFactory, tenant: Tenant
) -> None:
    app = await make_token_app(auth_failure_rate_limit="3/minute")
    account = await create_account(app.client, tenant, ["viewer"])
    right = account.secret
    account.secret = "scs_wrong"
    codes = [(await client_token(app.client, account)).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[-1] == 429
    account.secret = right
    assert (await client_token(app.client, account)).status_code == 429


async def test_an_address_sending_bad_tokens_is_throttled_even_with_a_good_one(
    make_token_app: TokenAppFactory, tenant: Tenant
) -> None:
    """Failed access tokens count against the client's address as failed API keys do; past
    the limit, the address is refused before its next token is even looked at."""
    app = await make_token_app(auth_failure_rate_limit="3/minute")
    account = await create_account(app.client, tenant, ["viewer"])
    good = await access_token(app.client, account)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    codes = [
        (await app.client.get("/api/v1/me", headers=bearer(forged))).status_code for _ in range(4)
    ]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    refused = await app.client.get("/api/v1/me", headers=bearer(good))
    assert_problem(refused, 429, "authentication-throttled")


async def test_a_token_used_before_is_refused_once_it_expires(
    tclient: httpx.AsyncClient, tenant: Tenant, moved_clock: ShiftableClock, runtime: Runtime
) -> None:
    """This process remembers tokens it verified; that never outlives the token's ``exp``."""
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    assert (await tclient.get("/api/v1/me", headers=bearer(token))).status_code == 200
    # Past exp and the 30 s leeway every check of exp allows for clock skew.
    moved_clock.offset += timedelta(seconds=runtime.settings.access_token_seconds + 31)
    refused = await tclient.get("/api/v1/me", headers=bearer(token))
    assert_problem(refused, 401, "invalid-token")
