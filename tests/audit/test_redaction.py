"""An organization's sensitive fields: configured through the settings API, masked in audit
details before the row is written, as a keyed digest that still correlates equal values."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.kit.sensitive import REDACTION_PURPOSE, Masker, normalize_fields
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory, assert_problem

ORG = "/api/v1/organization"
DIGEST = re.compile(r"^\[redacted:[0-9a-f]{8}\]$")
KEY = b"k" * 32


# The masker on its own.


def test_a_bare_name_is_masked_at_any_depth_and_in_lists() -> None:
    masker = Masker(["email"], KEY)
    out = masker.mask(
        {"email": "a@x.io", "user": {"EMAIL": "b@x.io"}, "list": [{"Email": "a@x.io"}], "n": 1}
    )
    assert DIGEST.match(out["email"])
    assert DIGEST.match(out["user"]["EMAIL"])
    assert out["list"][0]["Email"] == out["email"]  # equal values correlate
    assert out["user"]["EMAIL"] != out["email"]
    assert out["n"] == 1


def test_a_dotted_path_masks_only_that_path() -> None:
    masker = Masker(["details.headers.authorization", "request.body.card"], KEY)
    data = {
        "headers": {"authorization": "Bearer x", "accept": "json"},
        "authorization": "elsewhere",
        "request": [{"body": {"card": {"number": "4111"}}}],
    }
    out = masker.mask(data)
    assert DIGEST.match(out["headers"]["authorization"])
    assert out["headers"]["accept"] == "json"
    assert out["authorization"] == "elsewhere"
    assert DIGEST.match(out["request"][0]["body"]["card"])  # a whole subtree, one digest
    assert data["headers"]["authorization"] == "Bearer x"  # the input is not changed


def test_a_path_under_details_is_anchored_at_the_root() -> None:
    out = Masker(["details.email"], KEY).mask({"email": "a@x.io", "user": {"email": "b@x.io"}})
    assert DIGEST.match(out["email"])
    assert out["user"]["email"] == "b@x.io"


def test_the_digest_is_keyed_per_organization() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    one = Masker.for_org(["email"], KEY, first).mask({"email": "a@x.io"})["email"]
    same = Masker.for_org(["email"], KEY, first).mask({"email": "a@x.io"})["email"]
    other = Masker.for_org(["email"], KEY, second).mask({"email": "a@x.io"})["email"]
    assert one == same
    assert one != other
    org_key = hmac.new(KEY, first.bytes, hashlib.sha256).digest()
    expected = hmac.new(org_key, b"a@x.io", hashlib.sha256).hexdigest()[:8]
    assert one == f"[redacted:{expected}]"


def test_without_a_key_the_value_is_masked_plainly() -> None:
    assert Masker(["email"], None).mask({"email": "a@x.io"}) == {"email": "[redacted]"}


def test_no_fields_is_a_falsy_masker() -> None:
    assert not Masker([], KEY)
    assert Masker(["a"], KEY)


@pytest.mark.parametrize(
    "fields",
    [
        [""],
        ["  "],
        ["a..b"],
        [".a"],
        ["a."],
        ["a b"],
        ["a\nb"],
        ["caf\u00e9"],
        ["a" * 201],
        ["x'; DROP TABLE audit_events;--"],
        [f"f{i}" for i in range(101)],
    ],
)
def test_bad_field_names_are_refused(fields: list[str]) -> None:
    with pytest.raises(ValueError, match=r"."):
        normalize_fields(fields)


def test_field_names_are_normalized() -> None:
    assert normalize_fields([" Email ", "email", "details.Headers.X-Api-Key"]) == [
        "details.headers.x-api-key",
        "email",
    ]


# Through the API, into the stored rows.


async def _entries(runtime: Runtime, org_id: uuid.UUID, tag: str) -> list[AuditEvent]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        stmt = select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.seq)
        return list((await session.scalars(stmt)).all())


async def _add_member(client: httpx.AsyncClient, tenant: Tenant, email: str) -> str:
    added = await client.post(
        "/api/v1/users", json={"email": email, "roles": ["viewer"]}, headers=tenant.headers
    )
    assert added.status_code == 201, added.text
    user_id: str = added.json()["user_id"]
    return user_id


async def test_configured_fields_are_masked_before_the_row_is_written(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    runtime: Runtime,
    admin_engine: Engine,
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    fields = ["Email", "details.headers.authorization"]
    changed = await client.patch(
        ORG, json={"audit_sensitive_fields": fields}, headers=tenant.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["audit_sensitive_fields"] == ["details.headers.authorization", "email"]
    read = await client.get(ORG, headers=tenant.headers)
    assert read.json()["audit_sensitive_fields"] == ["details.headers.authorization", "email"]
    [settings_entry] = await _entries(runtime, tenant.org_id, "org:organization:settings_updated")
    assert settings_entry.details["audit_sensitive_fields"] == [
        "details.headers.authorization",
        "email",
    ]

    email = f"pii-{uuid.uuid4().hex[:8]}@example.com"
    user_id = await _add_member(client, tenant, email)
    removed = await client.delete(f"/api/v1/users/{user_id}", headers=tenant.headers)
    assert removed.status_code in (200, 204), removed.text
    await _add_member(client, tenant, email)
    await _add_member(client, other, email)  # an organization without the setting

    added = await _entries(runtime, tenant.org_id, "org:member:added")
    mine = [e for e in added if e.details.get("roles") == ["viewer"]]
    assert len(mine) == 2
    assert DIGEST.match(mine[0].details["email"])
    assert mine[0].details["email"] == mine[1].details["email"]  # the same person, correlated
    assert mine[0].details["roles"] == ["viewer"]
    [theirs] = [
        e
        for e in await _entries(runtime, other.org_id, "org:member:added")
        if e.details.get("roles") == ["viewer"]
    ]
    assert theirs.details["email"] == email  # only where configured

    # Nothing of the value was stored: the raw rows, as the owner reads them.
    with admin_engine.begin() as conn:
        hits = conn.execute(
            text(
                "SELECT count(*) FROM audit_events WHERE org_id = :org "
                "AND (details::text ILIKE :v OR coalesce(target_id, '') ILIKE :v)"
            ),
            {"org": tenant.org_id, "v": f"%{email}%"},
        ).scalar_one()
    assert hits == 0

    # The digest is the documented one: HMAC under the organization's key.
    platform = runtime.keyring.derive(REDACTION_PURPOSE)
    org_key = hmac.new(platform, tenant.org_id.bytes, hashlib.sha256).digest()
    expected = hmac.new(org_key, email.encode(), hashlib.sha256).hexdigest()[:8]
    assert mine[0].details["email"] == f"[redacted:{expected}]"


async def test_clearing_the_fields_stops_masking(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    await client.patch(ORG, json={"audit_sensitive_fields": ["email"]}, headers=tenant.headers)
    cleared = await client.patch(ORG, json={"audit_sensitive_fields": []}, headers=tenant.headers)
    assert cleared.json()["audit_sensitive_fields"] == []
    email = f"clear-{uuid.uuid4().hex[:8]}@example.com"
    await _add_member(client, tenant, email)
    added = await _entries(runtime, tenant.org_id, "org:member:added")
    assert added[-1].details["email"] == email


@pytest.mark.parametrize(
    "value",
    [
        "email",
        ["a..b"],
        [""],
        [123],
        [None],
        [{"path": "email"}],
        ["a" * 201],
        [f"f{i}" for i in range(101)],
        ["\u0000"],
    ],
)
async def test_bad_settings_are_422_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, value: Any
) -> None:
    response = await client.patch(
        ORG, json={"audit_sensitive_fields": value}, headers=tenant.headers
    )
    assert_problem(response, 422)
    read = await client.get(ORG, headers=tenant.headers)
    assert read.json()["audit_sensitive_fields"] == []


async def test_a_reader_may_not_change_the_fields(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/v1/api-keys", json={"name": "ro", "scopes": ["read"]}, headers=tenant.headers
    )
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    response = await client.patch(ORG, json={"audit_sensitive_fields": ["email"]}, headers=headers)
    assert_problem(response, 403)
    assert (await client.get(ORG, headers=tenant.headers)).json()["audit_sensitive_fields"] == []
