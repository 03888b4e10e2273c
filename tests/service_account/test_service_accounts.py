"""Service accounts over HTTP: create (secret once), list, get, update, rotate, delete; grant
limits; another organization's accounts are 404; bad input is 422."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem
from tests.identity.tokens.support import access_token, bearer, client_token, create_account

BASE = "/api/v1/service-accounts"


async def test_lifecycle(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await tclient.post(
        BASE,
        json={"name": "deploy-bot", "description": "CI", "roles": ["viewer"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["client_secret"]
    account = body["service_account"]
    assert secret.startswith("scs_")
    assert account["client_id"].startswith("sa_")
    assert account["roles"] == ["viewer"]
    assert account["status"] == "active"
    account_id = account["id"]

    got = await tclient.get(f"{BASE}/{account_id}", headers=tenant.headers)
    assert got.status_code == 200
    assert secret not in got.text
    listed = await tclient.get(BASE, headers=tenant.headers)
    assert account_id in {a["id"] for a in listed.json()["items"]}
    assert secret not in listed.text
    # It is a member of the organization, with its roles.
    member = await tclient.get(f"/api/v1/users/{account['user_id']}", headers=tenant.headers)
    assert member.status_code == 200
    assert member.json()["roles"] == ["viewer"]
    assert member.json()["email"].endswith("@service-accounts.invalid")

    taken = await tclient.post(BASE, json={"name": "deploy-bot"}, headers=tenant.headers)
    assert_problem(taken, 409, "service-account-name-taken")

    changed = await tclient.patch(
        f"{BASE}/{account_id}",
        json={"name": "deploy", "description": None, "roles": ["engineer"]},
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["engineer"]
    assert changed.json()["name"] == "deploy"
    assert changed.json()["description"] is None

    rotated = await tclient.post(f"{BASE}/{account_id}/rotate-secret", headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != secret
    old_form = {"grant_type": "client_credentials"}
    old = await tclient.post(
        "/oauth/token", data=old_form, auth=httpx.BasicAuth(account["client_id"], secret)
    )
    assert old.status_code == 401
    new = await tclient.post(
        "/oauth/token", data=old_form, auth=httpx.BasicAuth(account["client_id"], new_secret)
    )
    assert new.status_code == 200
    used = await tclient.get(f"{BASE}/{account_id}", headers=tenant.headers)
    assert used.json()["last_used_at"] is not None

    deleted = await tclient.delete(f"{BASE}/{account_id}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert_problem(
        await tclient.get(f"{BASE}/{account_id}", headers=tenant.headers),
        404,
        "service-account-not-found",
    )
    gone = await tclient.get(f"/api/v1/users/{account['user_id']}", headers=tenant.headers)
    assert gone.status_code == 404


async def test_bad_input_is_422(tclient: httpx.AsyncClient, tenant: Tenant) -> None:
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "roles": ["Not A Role"]},
        {"name": "ok", "extra": 1},
        {"name": "bad\u0000name"},
    ):
        answer = await tclient.post(BASE, json=body, headers=tenant.headers)
        assert answer.status_code in (400, 422), (body, answer.text)
    assert_problem(await tclient.get(f"{BASE}/not-a-uuid", headers=tenant.headers), 422)
    assert_problem(
        await tclient.post(
            BASE, json={"name": "r", "roles": ["nosuchrole"]}, headers=tenant.headers
        ),
        404,
    )


async def test_roles_only_those_the_caller_may_grant(
    tclient: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    role = {
        "name": f"bots-{uuid.uuid4().hex[:6]}",
        "permissions": ["service_accounts:read", "service_accounts:write"],
        "extends": ["viewer"],
    }
    assert (await tclient.post("/api/v1/roles", json=role, headers=tenant.headers)).is_success
    manager = await make_member(tenant, [role["name"]])
    above = await tclient.post(
        BASE, json={"name": "root-bot", "roles": ["admin"]}, headers=manager.headers
    )
    assert_problem(above, 403, "grant-above-granter")
    within = await tclient.post(
        BASE, json={"name": "view-bot", "roles": ["viewer"]}, headers=manager.headers
    )
    assert within.status_code == 201, within.text
    viewer = await make_member(tenant, ["viewer"])
    assert_problem(await tclient.get(BASE, headers=viewer.headers), 403)


async def test_other_organizations_accounts_and_objects_are_404(
    tclient: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    ours = await create_account(tclient, tenant, ["admin"])
    theirs = await create_account(tclient, other, ["admin"])
    token = await access_token(tclient, theirs)
    for method, path in (
        ("GET", f"{BASE}/{ours.id}"),
        ("PATCH", f"{BASE}/{ours.id}"),
        ("POST", f"{BASE}/{ours.id}/rotate-secret"),
        ("DELETE", f"{BASE}/{ours.id}"),
        ("GET", f"/api/v1/api-keys/{tenant.key_id}"),
        ("GET", f"/api/v1/users/{tenant.user_id}"),
    ):
        kwargs = {"json": {"name": "stolen"}} if method == "PATCH" else {}
        answer = await tclient.request(method, path, headers=bearer(token), **kwargs)  # type: ignore[arg-type]
        assert_problem(answer, 404)
    listed = await tclient.get(BASE, headers=bearer(token))
    assert ours.id not in {a["id"] for a in listed.json()["items"]}
    # Ours still works, unchanged.
    assert (await client_token(tclient, ours)).status_code == 200
