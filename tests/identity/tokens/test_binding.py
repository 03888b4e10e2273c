"""The bearer path: refusals with their challenges, DPoP-bound and certificate-bound tokens,
revocation."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import httpx

from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.fixtures.tls import TestCA
from tests.identity.tokens.support import (
    CERT_HEADER,
    PUBLIC_URL,
    DpopKey,
    TokenAppFactory,
    access_token,
    bearer,
    claims_of,
    client_token,
    create_account,
)

ME = PUBLIC_URL + "/api/v1/me"
TOKEN_URL = PUBLIC_URL + "/oauth/token"


async def test_unbound_token_sent_as_dpop_is_refused(
    tclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    answer = await tclient.get("/api/v1/me", headers={"Authorization": f"DPoP {token}"})
    assert_problem(answer, 401, "invalid-token")
    assert answer.headers["www-authenticate"].startswith("DPoP ")
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


async def test_tampered_expired_and_foreign_tokens_are_refused(
    tclient: httpx.AsyncClient, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    head, body, sig = token.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    tampered = await tclient.get("/api/v1/me", headers=bearer(f"{head}.{body}.{flipped}"))
    assert_problem(tampered, 401, "invalid-token")
    challenge = tampered.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    garbage = await tclient.get("/api/v1/me", headers=bearer("a.b.c"))
    assert_problem(garbage, 401, "invalid-token")

    from joserfc import jwt
    from joserfc.jwk import ECKey

    other = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": "nope"},
        {**claims_of(token), "iss": "https://issuer.example"},
        other,
    )
    foreign = await tclient.get("/api/v1/me", headers=bearer(forged))
    assert_problem(foreign, 401, "invalid-token")
    own_issuer_unknown_kid = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": "nope"}, claims_of(token), other
    )
    assert_problem(
        await tclient.get("/api/v1/me", headers=bearer(own_issuer_unknown_kid)),
        401,
        "invalid-token",
    )

    moved_clock.offset += timedelta(seconds=400)
    expired = await tclient.get("/api/v1/me", headers=bearer(token))
    assert_problem(expired, 401, "invalid-token")


async def test_dpop_bound_token(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    key = DpopKey()
    issued = await client_token(tclient, account, headers={"DPoP": key.proof("POST", TOKEN_URL)})
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "DPoP"
    token = issued.json()["access_token"]
    assert claims_of(token)["cnf"] == {"jkt": key.jkt}

    def dpop(proof: str | None) -> dict[str, str]:
        headers = {"Authorization": f"DPoP {token}"}
        if proof is not None:
            headers["DPoP"] = proof
        return headers

    proof = key.proof("GET", ME, access_token=token)
    ok = await tclient.get("/api/v1/me", headers=dpop(proof))
    assert ok.status_code == 200, ok.text
    assert ok.json()["service_account_id"] == account.id

    replayed = await tclient.get("/api/v1/me", headers=dpop(proof))
    assert_problem(replayed, 401, "invalid-dpop-proof")
    assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]

    missing = await tclient.get("/api/v1/me", headers=dpop(None))
    assert_problem(missing, 401, "invalid-dpop-proof")

    as_bearer = await tclient.get("/api/v1/me", headers=bearer(token))
    assert_problem(as_bearer, 401, "invalid-token")
    assert as_bearer.headers["www-authenticate"].startswith("DPoP ")

    other_key = DpopKey().proof("GET", ME, access_token=token)
    assert_problem(await tclient.get("/api/v1/me", headers=dpop(other_key)), 401)

    no_ath = key.proof("GET", ME)
    assert_problem(await tclient.get("/api/v1/me", headers=dpop(no_ath)), 401)

    wrong_url = key.proof("GET", PUBLIC_URL + "/api/v1/servers", access_token=token)
    assert_problem(await tclient.get("/api/v1/me", headers=dpop(wrong_url)), 401)

    # A bad proof at the token endpoint is an OAuth error.
    bad = await client_token(tclient, account, headers={"DPoP": key.proof("GET", TOKEN_URL)})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_dpop_proof"


async def test_dpop_nonce_when_required(make_token_app: TokenAppFactory, tenant: Tenant) -> None:
    app = await make_token_app(dpop_require_nonce=True)
    account = await create_account(app.client, tenant, ["viewer"])
    key = DpopKey()
    first = await client_token(app.client, account, headers={"DPoP": key.proof("POST", TOKEN_URL)})
    assert first.status_code == 400, first.text
    assert first.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["dpop-nonce"]
    second = await client_token(
        app.client, account, headers={"DPoP": key.proof("POST", TOKEN_URL, nonce=nonce)}
    )
    assert second.status_code == 200, second.text
    token = second.json()["access_token"]
    without = await app.client.get(
        "/api/v1/me",
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": key.proof("GET", ME, access_token=token),
        },
    )
    assert_problem(without, 401, "invalid-dpop-proof")
    assert without.headers["dpop-nonce"]
    assert 'error="use_dpop_nonce"' in without.headers["www-authenticate"]
    with_nonce = await app.client.get(
        "/api/v1/me",
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": key.proof("GET", ME, access_token=token, nonce=without.headers["dpop-nonce"]),
        },
    )
    assert with_nonce.status_code == 200, with_nonce.text


async def test_certificate_bound_token(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    ca = TestCA("mtls")
    mine, theirs = ca.client("bot"), ca.client("other")
    account = await create_account(tclient, tenant, ["viewer"])
    forwarded = {CERT_HEADER: quote(mine.cert_pem)}
    issued = await client_token(tclient, account, headers=forwarded)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert "x5t#S256" in claims_of(token)["cnf"]
    ok = await tclient.get("/api/v1/me", headers={**bearer(token), **forwarded})
    assert ok.status_code == 200, ok.text
    assert_problem(await tclient.get("/api/v1/me", headers=bearer(token)), 401, "invalid-token")
    other = {CERT_HEADER: quote(theirs.cert_pem)}
    assert_problem(
        await tclient.get("/api/v1/me", headers={**bearer(token), **other}), 401, "invalid-token"
    )


async def test_revoked_access_token_is_refused(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    assert (await tclient.get("/api/v1/me", headers=bearer(token))).status_code == 200
    revoked = await tclient.post(
        "/oauth/revoke",
        data={"token": token},
        auth=httpx.BasicAuth(account.client_id, account.secret),
    )
    assert revoked.status_code == 200, revoked.text
    refused = await tclient.get("/api/v1/me", headers=bearer(token))
    assert_problem(refused, 401, "invalid-token")
    assert "revoked" in refused.json()["detail"]
    unknown = await tclient.post(
        "/oauth/revoke",
        data={"token": "not-a-token"},
        auth=httpx.BasicAuth(account.client_id, account.secret),
    )
    assert unknown.status_code == 200


async def test_disabled_and_deleted_accounts_tokens_are_refused(
    tclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    account = await create_account(tclient, tenant, ["viewer"])
    token = await access_token(tclient, account)
    changed = await tclient.patch(
        f"/api/v1/service-accounts/{account.id}", json={"disabled": True}, headers=tenant.headers
    )
    assert changed.status_code == 200
    assert changed.json()["status"] == "disabled"
    assert_problem(await tclient.get("/api/v1/me", headers=bearer(token)), 401, "invalid-token")
    assert (await client_token(tclient, account)).json()["error"] == "invalid_client"
    await tclient.patch(
        f"/api/v1/service-accounts/{account.id}", json={"disabled": False}, headers=tenant.headers
    )
    token = await access_token(tclient, account)
    deleted = await tclient.delete(f"/api/v1/service-accounts/{account.id}", headers=tenant.headers)
    assert deleted.status_code == 204, deleted.text
    assert_problem(await tclient.get("/api/v1/me", headers=bearer(token)), 401, "invalid-token")
