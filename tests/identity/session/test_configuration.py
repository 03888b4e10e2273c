"""The provider's configuration API, step-up on changing it, and provider access tokens."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import Request
from sqlalchemy import select

from sprintconnect.audit import AuditTag
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.session.external import external_issuers, principal_for_external
from sprintconnect.models import AuditEvent
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.identity.session.conftest import (
    Provider,
    SignInApp,
    SignInAppFactory,
    configure,
    new_email,
    sign_in,
)

URL = "/api/v1/organization/identity-provider"


async def test_get_put_delete_and_the_secret_is_write_only(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    assert_problem(
        await browser.get(URL, headers=tenant.headers), 404, "identity-provider-not-found"
    )
    put = await configure(browser, tenant, provider, allowed_email_domains=["Example.COM"])
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["client_secret_set"] is True
    assert "s3cret" not in put.text
    assert body["allowed_email_domains"] == ["example.com"]
    assert body["redirect_uri"] == "https://testserver/auth/callback"
    assert body["login_url"] == f"https://testserver/auth/login?org={tenant.slug}"
    got = await browser.get(URL, headers=tenant.headers)
    assert got.json() == body
    assert "s3cret" not in got.text
    # Omitting the secret keeps it.
    again = await browser.put(
        URL, json={"issuer": provider.issuer, "client_id": "other"}, headers=tenant.headers
    )
    assert again.status_code == 200
    assert again.json()["client_secret_set"] is True
    assert (await browser.delete(URL, headers=tenant.headers)).status_code == 204
    assert_problem(await browser.get(URL, headers=tenant.headers), 404)


async def test_put_validates_against_the_provider(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    # Nothing listens there.
    dead = await browser.put(
        URL, json={"issuer": "http://127.0.0.1:9/", "client_id": "x"}, headers=tenant.headers
    )
    body = assert_problem(dead, 422, "identity-provider-unusable")
    assert "could not be read" in body["detail"]
    # The metadata names another issuer (a trailing slash is another string).
    mismatch = await browser.put(
        URL, json={"issuer": provider.issuer + "/", "client_id": "x"}, headers=tenant.headers
    )
    assert "names another issuer" in assert_problem(mismatch, 422)["detail"]
    plain = await browser.put(
        URL, json={"issuer": "ftp://idp.example", "client_id": "x"}, headers=tenant.headers
    )
    assert_problem(plain, 422)
    unknown_role = await configure(browser, tenant, provider, group_roles={"g": ["no-such"]})
    assert_problem(unknown_role, 422, "unknown-mapped-role")


async def test_changing_the_provider_from_a_session_needs_a_recent_sign_in(
    browser: httpx.AsyncClient,
    tenant: Tenant,
    provider: Provider,
    moved_clock: ShiftableClock,
) -> None:
    assert (await configure(browser, tenant, provider)).status_code == 200
    admin_email = (await browser.get("/api/v1/me", headers=tenant.headers)).json()["email"]
    provider.put_user(admin_email, {"email": admin_email})
    assert (await sign_in(browser, tenant.slug, admin_email)).done.status_code == 302
    csrf = (await browser.get("/auth/session")).json()["csrf_token"]
    change = {"issuer": provider.issuer, "client_id": "changed"}
    fresh = await browser.put(URL, json=change, headers={"X-CSRF-Token": csrf})
    assert fresh.status_code == 200, fresh.text

    moved_clock.offset += timedelta(seconds=901)
    stale = await browser.put(URL, json=change, headers={"X-CSRF-Token": csrf})
    body = assert_problem(stale, 401, "step-up-required")
    challenge = stale.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert "max_age=900" in challenge
    login = urlsplit(stale.headers["location"])
    assert login.path == "/auth/login"
    assert parse_qs(login.query) == {"org": [tenant.slug], "prompt": ["login"], "max_age": ["900"]}
    assert body["login_url"] == stale.headers["location"]
    # API keys are not asked to step up.
    assert (await browser.put(URL, json=change, headers=tenant.headers)).status_code == 200

    # Following the login URL signs in again, and the change goes through (the provider
    # states auth_time by its own clock: put ours back to agree with it).
    moved_clock.offset = timedelta()
    again = await browser.get(stale.headers["location"])
    authorize = again.headers["location"]
    assert parse_qs(urlsplit(authorize).query)["prompt"] == ["login"]
    chosen = await browser.post(authorize, data={"sub": admin_email})
    assert (await browser.get(chosen.headers["location"])).status_code == 302
    csrf = (await browser.get("/auth/session")).json()["csrf_token"]
    done = await browser.put(URL, json=change, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text


async def test_logout_through_the_confirm_page(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    assert (await configure(browser, tenant, provider)).status_code == 200
    email = new_email()
    provider.put_user(email, {"email": email})
    assert (await sign_in(browser, tenant.slug, email)).done.status_code == 302
    page = await browser.get("/auth/logout")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    forged = await browser.post("/auth/logout", data={"csrf_token": "forged"})
    assert_problem(forged, 403, "csrf-token-invalid")
    out = await browser.post("/auth/logout", data={"csrf_token": token})
    assert out.status_code == 200
    assert "You are signed out" in out.text
    assert "oauth2/end_session" in out.text
    assert (await browser.get("/api/v1/me")).status_code == 401


async def test_provider_access_tokens_map_to_the_signed_in_user(
    sign_in_app: SignInApp,
    browser: httpx.AsyncClient,
    tenant: Tenant,
    provider: Provider,
    other_provider: Provider,
) -> None:
    audience = f"sprintconnect-{tenant.slug}"
    put = await configure(browser, tenant, provider, access_token_audience=audience)
    assert put.status_code == 200
    email = new_email()
    provider.put_user(email, {"email": email})
    assert (await sign_in(browser, tenant.slug, email)).done.status_code == 302
    user_id = (await browser.get("/api/v1/me")).json()["user_id"]

    request = Request({"type": "http", "app": sign_in_app.app, "headers": [], "client": None})
    runtime = sign_in_app.runtime
    found = await external_issuers(request, runtime, provider.issuer)
    mine = [f for f in found if f.org_id == tenant.org_id]
    assert len(mine) == 1
    assert mine[0].audiences == frozenset({audience})
    assert await external_issuers(request, runtime, other_provider.issuer) == []

    async with runtime.db.sessionmaker() as session:
        principal = await principal_for_external(
            request, runtime, session, mine[0], {"sub": email, "jti": "j1", "auth_time": 1}
        )
        assert str(principal.user_id) == user_id
        assert principal.credential == "token"
        assert principal.org_id == tenant.org_id
        assert principal.token_id == "j1"
        stranger = None
        try:
            await principal_for_external(request, runtime, session, mine[0], {"sub": "nobody"})
        except Exception as exc:
            stranger = exc
        assert stranger is not None
        assert getattr(stranger, "status", None) == 401


async def test_a_required_acr_is_asked_for(
    make_app: SignInAppFactory, tenant: Tenant, provider: Provider
) -> None:
    app = await make_app(step_up_acr="urn:example:mfa")
    async with app.browser() as browser:
        assert (await configure(browser, tenant, provider)).status_code == 200
        admin_email = (await browser.get("/api/v1/me", headers=tenant.headers)).json()["email"]
        provider.put_user(admin_email, {"email": admin_email})
        assert (await sign_in(browser, tenant.slug, admin_email)).done.status_code == 302
        csrf = (await browser.get("/auth/session")).json()["csrf_token"]
        weak = await browser.put(
            URL,
            json={"issuer": provider.issuer, "client_id": "c"},
            headers={"X-CSRF-Token": csrf},
        )
        body = assert_problem(weak, 401, "step-up-required")
        assert body["acr_values"] == "urn:example:mfa"
        assert 'acr_values="urn:example:mfa"' in weak.headers["www-authenticate"]
        # The sign-in it points to asks the provider for that level.
        again = await browser.get(weak.headers["location"])
        assert parse_qs(urlsplit(again.headers["location"]).query)["acr_values"] == [
            "urn:example:mfa"
        ]


async def test_changes_to_the_provider_are_audited(
    sign_in_app: SignInApp, browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    put = await configure(browser, tenant, provider)
    deleted = await browser.delete(URL, headers=tenant.headers)
    assert deleted.status_code == 204
    async with sign_in_app.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = (
            await session.execute(
                select(AuditEvent.request_id, AuditEvent.tag, AuditEvent.details).where(
                    AuditEvent.org_id == tenant.org_id
                )
            )
        ).all()
    tags = {request_id: (tag, details) for request_id, tag, details in rows}
    tag, details = tags[put.headers["x-request-id"]]
    assert tag == str(AuditTag.IDENTITY_PROVIDER_UPDATED)  # org:identity_provider:updated
    assert details["client_secret_changed"] is True
    assert "s3cret" not in str(details)
    assert tags[deleted.headers["x-request-id"]][0] == str(AuditTag.IDENTITY_PROVIDER_DELETED)
