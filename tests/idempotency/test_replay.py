"""Same key and request: the first answer again; another request under the key: 422."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import IdempotencyKey
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.idempotency.support import KEYS, create_key, headers, key_names, replayed


async def test_retry_replays_the_first_answer_byte_for_byte(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    key = str(uuid.uuid4())
    first = await create_key(client, tenant, key, name="once")
    second = await create_key(client, tenant, key, name="once")
    assert first.status_code == second.status_code == 201
    assert not replayed(first)
    assert replayed(second)
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert (await key_names(client, tenant)).count("once") == 1


async def test_another_body_under_the_same_key_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    key = str(uuid.uuid4())
    assert (await create_key(client, tenant, key, name="first")).status_code == 201
    other = await create_key(client, tenant, key, name="second")
    body = assert_problem(other, 422, "idempotency-key-reused")
    assert "POST /api/v1/api-keys" in body["detail"]
    assert "second" not in await key_names(client, tenant)


async def test_another_path_under_the_same_key_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    key = str(uuid.uuid4())
    created = await create_key(client, tenant, key)
    assert created.status_code == 201
    key_id = created.json()["api_key"]["id"]
    revoke = await client.post(f"{KEYS}/{key_id}/revoke", headers=headers(tenant, key))
    assert_problem(revoke, 422, "idempotency-key-reused")
    item = await client.get(f"{KEYS}/{key_id}", headers=tenant.headers)
    assert item.json()["status"] == "active"


async def test_a_query_string_is_part_of_the_request(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    key = str(uuid.uuid4())
    payload = {"name": "q", "scopes": ["servers:read"]}
    assert (await client.post(KEYS, json=payload, headers=headers(tenant, key))).status_code == 201
    other = await client.post(KEYS, params={"x": "1"}, json=payload, headers=headers(tenant, key))
    assert_problem(other, 422, "idempotency-key-reused")


async def test_concurrent_duplicates_run_once(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = str(uuid.uuid4())
    name = f"race-{uuid.uuid4().hex[:8]}"
    first, second = await asyncio.gather(
        create_key(client, tenant, key, name=name), create_key(client, tenant, key, name=name)
    )
    statuses = sorted([first.status_code, second.status_code])
    if statuses == [201, 409]:
        loser = first if first.status_code == 409 else second
        body = assert_problem(loser, 409, "idempotency-in-progress")
        assert loser.headers["retry-after"] == "1"
        assert body["retry_after"] == 1
    else:
        assert statuses == [201, 201]
        assert first.content == second.content
        assert replayed(first) != replayed(second)
    assert (await key_names(client, tenant)).count(name) == 1


async def test_a_client_error_is_the_answer_and_is_replayed(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    key = str(uuid.uuid4())
    first = await create_key(client, tenant, key, scopes=["no-such-scope"])
    assert_problem(first, 422)
    second = await create_key(client, tenant, key, scopes=["no-such-scope"])
    assert second.status_code == 422
    assert replayed(second)
    assert second.content == first.content
    assert second.headers["content-type"] == "application/problem+json"


async def test_keys_are_scoped_per_organization(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    one, two = await make_tenant(), await make_tenant()
    key = "shared-key-string"
    answers = [await create_key(client, tenant, key, name="same") for tenant in (one, two)]
    assert [a.status_code for a in answers] == [201, 201]
    assert not any(replayed(a) for a in answers)
    assert answers[0].json()["api_key"]["id"] != answers[1].json()["api_key"]["id"]
    # Each tenant now replays its own answer, never the other's.
    again = await create_key(client, two, key, name="same")
    assert replayed(again)
    assert again.content == answers[1].content


async def test_keys_are_scoped_per_credential(client: httpx.AsyncClient, tenant: Tenant) -> None:
    issued = await create_key(client, tenant, None, name="second key", scopes=["admin"])
    other = Tenant(
        org_id=tenant.org_id,
        slug=tenant.slug,
        user_id=tenant.user_id,
        key_id=uuid.UUID(issued.json()["api_key"]["id"]),
        key=issued.json()["key"],
    )
    key = str(uuid.uuid4())
    mine = await create_key(client, tenant, key, name="per-key")
    theirs = await create_key(client, other, key, name="per-key")
    assert mine.status_code == theirs.status_code == 201
    assert not replayed(theirs)
    assert (await key_names(client, tenant)).count("per-key") == 2


async def test_a_revoked_credential_gets_no_replay(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    issued = (await create_key(client, tenant, None, name="short-lived", scopes=["admin"])).json()
    other = Tenant(tenant.org_id, tenant.slug, tenant.user_id, tenant.key_id, issued["key"])
    key = str(uuid.uuid4())
    assert (await create_key(client, other, key, name="by-other")).status_code == 201
    revoked = await client.post(f"{KEYS}/{issued['api_key']['id']}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200
    retry = await create_key(client, other, key, name="by-other")
    assert_problem(retry, 401, "credentials-revoked")


async def test_the_stored_answer_is_sealed(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = str(uuid.uuid4())
    created = await create_key(client, tenant, key)
    secret = created.json()["key"]
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
    assert row is not None
    assert row.status_code == 201
    assert row.caller_id == tenant.key_id
    assert row.response_body is not None
    assert secret.encode() not in row.response_body
    assert created.content not in row.response_body


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * 256,
        "h\u00e9llo".encode("latin-1"),
        b"tab\there",
        b"bell\x07",
        b"del\x7f",
    ],
)
async def test_malformed_keys_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, value: str | bytes
) -> None:
    name = f"bad-{uuid.uuid4().hex[:8]}"
    response = await create_key(client, tenant, value, name=name)
    assert_problem(response, 422, "idempotency-key-invalid")
    assert name not in await key_names(client, tenant)


async def test_longest_and_odd_but_printable_keys_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for key in ("k" * 255, "a b~!{}[]\"'`", "1"):
        first = await create_key(client, tenant, key)
        second = await create_key(client, tenant, key)
        assert first.status_code == 201, first.text
        assert replayed(second)


async def test_two_key_headers_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        KEYS,
        json={"name": "dup", "scopes": ["servers:read"]},
        headers=[
            *tenant.headers.items(),
            ("Idempotency-Key", "a"),
            ("Idempotency-Key", "b"),
        ],
    )
    assert_problem(response, 422, "idempotency-key-invalid")


async def test_reads_ignore_the_header(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for value in ("read-key", "x" * 300):
        for _ in range(2):
            listed = await client.get(KEYS, headers=headers(tenant, value))
            assert listed.status_code == 200
            assert not replayed(listed)


async def test_unauthenticated_requests_reach_the_route(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    payload = {"name": "anon", "scopes": ["servers:read"]}
    missing = await client.post(KEYS, json=payload, headers={"Idempotency-Key": "anon"})
    assert_problem(missing, 401, "authentication-required")
    forged = {"Authorization": "Bearer sc_aaaaaaaaaaaa_" + "A" * 43, "Idempotency-Key": "anon"}
    assert_problem(await client.post(KEYS, json=payload, headers=forged), 401)
    assert_problem(await client.post(KEYS, json=payload, headers=forged), 401)


async def test_an_oversized_body_is_refused_and_not_kept(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = str(uuid.uuid4())
    huge = {"name": "big", "scopes": ["servers:read"], "description": "x" * 2_000_000}
    too_large = await client.post(KEYS, json=huge, headers=headers(tenant, key))
    assert_problem(too_large, 413, "payload-too-large")
    assert (await create_key(client, tenant, key, name="small")).status_code == 201
