"""Authorization code + PKCE (codes made at the service level, exchanged over HTTP), refresh
rotation and reuse detection, the authorization endpoint's refusals."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.tokens.clients import CLI_CLIENT_ID, PUBLIC_CLIENTS
from sprintconnect.identity.tokens.service import TokenService
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.models import AuditEvent, OutboxEvent
from sprintconnect.models.token import RefreshToken
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.identity.tokens.support import PUBLIC_URL, DpopKey, TokenApp, bearer, claims_of

REDIRECT = "http://127.0.0.1:53682/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def make_code(
    app: TokenApp, tenant: Tenant, challenge: str, *, jkt: str | None = None
) -> str:
    rt = app.runtime
    async with rt.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        return await TokenService(session, rt, token_state(app.app)).create_code(
            org_id=tenant.org_id,
            user_id=tenant.user_id,
            client_id=CLI_CLIENT_ID,
            redirect_uri=REDIRECT,
            code_challenge=challenge,
            scope=["admin"],
            audience=PUBLIC_URL,
            jkt=jkt,
            auth_time=rt.clock.now(),
            acr="urn:example:mfa",
            session_id=None,
        )


async def exchange(
    client: httpx.AsyncClient, code: str, verifier: str, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": CLI_CLIENT_ID,
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **extra,
    }
    headers = {}
    if "dpop" in extra:
        headers["DPoP"] = form.pop("dpop")
    return await client.post("/oauth/token", data=form, headers=headers)


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": CLI_CLIENT_ID, "refresh_token": token},
    )


async def test_code_exchange_and_refresh_rotation_with_reuse_detection(
    token_app: TokenApp, tenant: Tenant
) -> None:
    client = token_app.client
    verifier, challenge = pkce()
    code = await make_code(token_app, tenant, challenge)
    issued = await exchange(client, code, verifier)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    first_refresh = body["refresh_token"]
    claims = claims_of(body["access_token"])
    assert claims["sub"] == str(tenant.user_id)
    assert claims["acr"] == "urn:example:mfa"
    assert claims["auth_time"]
    assert "sa" not in claims
    assert claims["client_id"] == CLI_CLIENT_ID
    me = await client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["roles"] == ["admin"]

    rotated = await refresh(client, first_refresh)
    assert rotated.status_code == 200, rotated.text
    second_refresh = rotated.json()["refresh_token"]
    assert second_refresh != first_refresh

    reused = await refresh(client, first_refresh)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # The whole family is revoked: the legitimate holder's newest token too.
    after = await refresh(client, second_refresh)
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"

    async with token_app.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = (
            await session.scalars(select(AuditEvent.tag).where(AuditEvent.org_id == tenant.org_id))
        ).all()
        events = (
            await session.scalars(
                select(OutboxEvent.topic).where(OutboxEvent.org_id == tenant.org_id)
            )
        ).all()
        family = (
            await session.scalars(select(RefreshToken).where(RefreshToken.org_id == tenant.org_id))
        ).all()
    assert "org:token:refresh_reuse_detected" in tags
    assert "org:token:issued" in tags
    assert "token.refresh_reuse_detected" in events
    assert family
    assert all(row.revoked_at is not None for row in family)


async def test_replayed_code_revokes_what_it_issued(token_app: TokenApp, tenant: Tenant) -> None:
    client = token_app.client
    verifier, challenge = pkce()
    code = await make_code(token_app, tenant, challenge)
    first = (await exchange(client, code, verifier)).json()
    again = await exchange(client, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert (await refresh(client, first["refresh_token"])).json()["error"] == "invalid_grant"
    refused = await client.get("/api/v1/me", headers=bearer(first["access_token"]))
    assert_problem(refused, 401, "invalid-token")


async def test_code_checks(
    token_app: TokenApp, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    client = token_app.client
    verifier, challenge = pkce()
    wrong_verifier = await exchange(
        client, await make_code(token_app, tenant, challenge), pkce()[0]
    )
    assert wrong_verifier.json()["error"] == "invalid_grant"
    no_verifier = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": CLI_CLIENT_ID,
            "code": await make_code(token_app, tenant, challenge),
            "redirect_uri": REDIRECT,
        },
    )
    assert no_verifier.json()["error"] == "invalid_grant"
    other_uri = await exchange(
        client,
        await make_code(token_app, tenant, challenge),
        verifier,
        redirect_uri="http://127.0.0.1:53682/callbacK",
    )
    assert other_uri.json()["error"] == "invalid_grant"
    unknown = await exchange(client, "no-such-code", verifier)
    assert unknown.json()["error"] == "invalid_grant"
    late = await make_code(token_app, tenant, challenge)
    moved_clock.offset += timedelta(seconds=61)
    expired = await exchange(client, late, verifier)
    assert expired.json()["error"] == "invalid_grant"
    assert "expired" in expired.json()["error_description"]


async def test_dpop_bound_code_and_refresh(token_app: TokenApp, tenant: Tenant) -> None:
    client = token_app.client
    key = DpopKey()
    token_url = PUBLIC_URL + "/oauth/token"
    verifier, challenge = pkce()
    code = await make_code(token_app, tenant, challenge, jkt=key.jkt)
    unproven = await exchange(client, code, verifier)
    assert unproven.json()["error"] == "invalid_dpop_proof"
    code = await make_code(token_app, tenant, challenge, jkt=key.jkt)
    issued = await exchange(client, code, verifier, dpop=key.proof("POST", token_url))
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "DPoP"
    refresh_token = issued.json()["refresh_token"]
    without = await refresh(client, refresh_token)
    assert without.json()["error"] == "invalid_dpop_proof"
    renewed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLI_CLIENT_ID,
            "refresh_token": refresh_token,
        },
        headers={"DPoP": key.proof("POST", token_url)},
    )
    assert renewed.status_code == 200, renewed.text
    assert claims_of(renewed.json()["access_token"])["cnf"] == {"jkt": key.jkt}


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("http://127.0.0.1:53682/callback", True),
        ("http://127.0.0.1:1/callback", True),
        ("http://[::1]:8080/callback", True),
        ("http://127.0.0.1/callback", False),
        ("http://localhost:53682/callback", False),
        ("https://127.0.0.1:53682/callback", False),
        ("http://127.0.0.1:53682/callback/", False),
        ("http://127.0.0.1:53682/callback?x=1", False),
        ("http://127.0.0.1:53682/callback#f", False),
        ("http://user@127.0.0.1:53682/callback", False),
        ("http://127.0.0.2:53682/callback", False),
        ("http://127.0.0.1:0/callback", False),
        ("http://127.0.0.1:99999/callback", False),
        ("http://evil.example/callback", False),
    ],
)
def test_loopback_redirect_uris(uri: str, allowed: bool) -> None:
    assert PUBLIC_CLIENTS[CLI_CLIENT_ID].redirect_allowed(uri) is allowed


async def test_authorize_refusals_and_sign_in_redirect(
    tclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    _, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": CLI_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "xyz",
        "org": tenant.slug,
    }
    to_login = await tclient.get("/oauth/authorize", params=params)
    assert to_login.status_code == 302
    location = urlsplit(to_login.headers["location"])
    assert location.path == "/auth/login"
    query = parse_qs(location.query)
    assert query["org"] == [tenant.slug]
    assert query["return_to"][0].startswith("/oauth/authorize?")

    unknown_client = await tclient.get(
        "/oauth/authorize", params={**params, "client_id": "someone"}
    )
    assert_problem(unknown_client, 400, "authorization-request-invalid")
    bad_uri = await tclient.get(
        "/oauth/authorize", params={**params, "redirect_uri": "http://evil.example/callback"}
    )
    assert_problem(bad_uri, 400, "authorization-request-invalid")
    plain = await tclient.get(
        "/oauth/authorize", params={**params, "code_challenge_method": "plain"}
    )
    assert plain.status_code == 302
    back = parse_qs(urlsplit(plain.headers["location"]).query)
    assert back["error"] == ["invalid_request"]
    assert back["state"] == ["xyz"]
    assert back["iss"] == [PUBLIC_URL]
    with_key = await tclient.get("/oauth/authorize", params=params, headers=tenant.headers)
    assert_problem(with_key, 403, "browser-session-required")


async def test_cli_revokes_its_refresh_token_and_introspection_sees_it(
    token_app: TokenApp, tenant: Tenant
) -> None:
    client = token_app.client
    verifier, challenge = pkce()
    issued = (
        await exchange(client, await make_code(token_app, tenant, challenge), verifier)
    ).json()
    refresh_token = issued["refresh_token"]
    seen = await client.post(
        "/oauth/introspect", data={"token": refresh_token}, headers=tenant.headers
    )
    assert seen.json()["active"] is True
    assert seen.json()["token_type"] == "refresh_token"
    assert seen.json()["client_id"] == CLI_CLIENT_ID
    # Someone else's client id cannot revoke it; the CLI can, by client_id alone.
    stranger = await client.post(
        "/oauth/revoke", data={"token": refresh_token, "client_id": "sa_nobody"}
    )
    assert stranger.status_code == 401
    revoked = await client.post(
        "/oauth/revoke", data={"token": refresh_token, "client_id": CLI_CLIENT_ID}
    )
    assert revoked.status_code == 200, revoked.text
    assert (await refresh(client, refresh_token)).json()["error"] == "invalid_grant"
    gone = await client.post(
        "/oauth/introspect", data={"token": refresh_token}, headers=tenant.headers
    )
    assert gone.json() == {"active": False}
    # The CLI revokes its access token too; it is refused from then on.
    access = issued["access_token"]
    assert (
        await client.post("/oauth/revoke", data={"token": access, "client_id": CLI_CLIENT_ID})
    ).status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=bearer(access)), 401, "invalid-token")
