"""Idempotency-Key with a browser session: a retry is answered from the first request, and a
replay still asks for the session's CSRF token, as the route would."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Tenant, assert_problem
from tests.identity.session.conftest import Provider, SignInApp, configure, new_email, sign_in


async def test_a_session_retry_is_replayed_and_still_needs_the_csrf_token(
    sign_in_app: SignInApp, browser: httpx.AsyncClient, provider: Provider, tenant: Tenant
) -> None:
    configured = await configure(browser, tenant, provider, group_roles={"ops": ["admin"]})
    assert configured.status_code == 200, configured.text
    email = new_email()
    provider.put_user(email, {"email": email, "groups": ["ops"]})
    assert (await sign_in(browser, tenant.slug, email)).done.status_code == 302
    csrf = (await browser.get("/auth/session")).json()["csrf_token"]
    key = f"session-{uuid.uuid4()}"
    body = {"name": f"idem-{uuid.uuid4().hex[:8]}", "permissions": ["servers:read"]}
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": key}

    first = await browser.post("/api/v1/roles", json=body, headers=headers)
    assert first.status_code == 201, first.text
    retry = await browser.post("/api/v1/roles", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    without_csrf = await browser.post("/api/v1/roles", json=body, headers={"Idempotency-Key": key})
    assert_problem(without_csrf, 403, "csrf-token-missing")
    listed = (await browser.get("/api/v1/roles", params={"limit": 200})).json()["items"]
    assert [r["name"] for r in listed].count(body["name"]) == 1
