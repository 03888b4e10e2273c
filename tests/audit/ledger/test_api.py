"""The ledger's API: checkpoints, proofs that verify, verification, public keys, access."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from sprintconnect.audit.ledger import signing
from sprintconnect.audit.ledger.signing import rotate_key
from sprintconnect.db.owner import owner_transaction
from sprintconnect.kit import merkle
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import write_entries
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem


def _b(value: str) -> bytes:
    return base64.b64decode(value)


async def _publish(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    answer = await client.post("/api/v1/audit/checkpoints", headers=tenant.headers)
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _entry_ids(runtime: Runtime, tenant: Tenant) -> list[uuid.UUID]:
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(tenant.org_id)}
        )
        rows = await session.execute(
            text("SELECT event_id FROM audit_leaves WHERE org_id = :org ORDER BY leaf_index"),
            {"org": tenant.org_id},
        )
        return [r[0] for r in rows]


async def test_no_checkpoint_before_the_first_is_published(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    answer = await client.get("/api/v1/audit/checkpoints/latest", headers=tenant.headers)
    assert_problem(answer, 404, "audit-checkpoint-not-found")


async def test_publishing_signs_the_tree_once_until_it_grows(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    first = await client.post("/api/v1/audit/checkpoints", headers=tenant.headers)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/audit/checkpoints", headers=tenant.headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    await write_entries(runtime, tenant.org_id, 3)
    grown = await client.post("/api/v1/audit/checkpoints", headers=tenant.headers)
    assert grown.status_code == 201
    assert grown.json()["tree_size"] == first.json()["tree_size"] + 3
    latest = await client.get("/api/v1/audit/checkpoints/latest", headers=tenant.headers)
    assert latest.json() == grown.json()


async def test_a_checkpoint_is_a_signed_note_verifiable_with_the_published_key(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    checkpoint = await _publish(client, tenant)
    note = signing.parse_note(checkpoint["note"])
    assert note.org_id == tenant.org_id
    assert note.tree_size == checkpoint["tree_size"]
    assert base64.b64encode(note.root_hash).decode() == checkpoint["root_hash"]
    assert note.key_id == checkpoint["key_id"]
    keys = (await client.get("/.well-known/sprintconnect-audit-keys")).json()["keys"]
    key = next(k for k in keys if k["kid"] == note.key_id)
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    raw = base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))
    assert signing.verify_signature(raw, note.body, note.signature)
    assert not signing.verify_signature(raw, note.body.replace("\n", "\n ", 1), note.signature)


async def test_checkpoints_publish_an_outbox_event(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    checkpoint = await _publish(client, tenant)
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(tenant.org_id)}
        )
        payloads = (
            (
                await session.execute(
                    text(
                        "SELECT payload FROM outbox_events "
                        "WHERE org_id = :org AND topic = 'audit.checkpoint'"
                    ),
                    {"org": tenant.org_id},
                )
            )
            .scalars()
            .all()
        )
    assert len(payloads) == 1
    assert payloads[0]["tree_size"] == checkpoint["tree_size"]
    assert payloads[0]["root_hash"] == checkpoint["root_hash"]
    assert payloads[0]["key_id"] == checkpoint["key_id"]


async def test_every_inclusion_proof_leads_to_the_signed_root(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await write_entries(runtime, tenant.org_id, 7)
    checkpoint = await _publish(client, tenant)
    for index, event_id in enumerate(await _entry_ids(runtime, tenant)):
        answer = await client.get(
            f"/api/v1/audit/events/{event_id}/inclusion-proof", headers=tenant.headers
        )
        assert answer.status_code == 200, answer.text
        proof = answer.json()
        assert proof["leaf_index"] == index
        assert proof["tree_size"] == checkpoint["tree_size"]
        assert proof["root_hash"] == checkpoint["root_hash"]
        assert proof["checkpoint"] == checkpoint
        merkle.verify_inclusion(
            index,
            proof["tree_size"],
            _b(proof["leaf_hash"]),
            [_b(p) for p in proof["proof"]],
            _b(checkpoint["root_hash"]),
        )


async def test_an_inclusion_proof_in_an_older_tree(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    old = await _publish(client, tenant)
    await write_entries(runtime, tenant.org_id, 5)
    await _publish(client, tenant)
    first = (await _entry_ids(runtime, tenant))[0]
    answer = await client.get(
        f"/api/v1/audit/events/{first}/inclusion-proof",
        params={"tree_size": old["tree_size"]},
        headers=tenant.headers,
    )
    proof = answer.json()
    assert proof["root_hash"] == old["root_hash"]
    merkle.verify_inclusion(
        0,
        old["tree_size"],
        _b(proof["leaf_hash"]),
        [_b(p) for p in proof["proof"]],
        _b(old["root_hash"]),
    )


async def test_a_consistency_proof_between_two_checkpoints(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    old = await _publish(client, tenant)
    await write_entries(runtime, tenant.org_id, 6)
    new = await _publish(client, tenant)
    answer = await client.get(
        "/api/v1/audit/consistency-proof",
        params={"first": old["tree_size"], "second": new["tree_size"]},
        headers=tenant.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["first_checkpoint"] == old
    assert body["second_checkpoint"] == new
    merkle.verify_consistency(
        old["tree_size"],
        new["tree_size"],
        _b(old["root_hash"]),
        _b(new["root_hash"]),
        [_b(p) for p in body["proof"]],
    )
    listed = await client.get(
        "/api/v1/audit/checkpoints", params={"limit": 1}, headers=tenant.headers
    )
    assert [c["tree_size"] for c in listed.json()["items"]] == [new["tree_size"]]
    rest = await client.get(
        "/api/v1/audit/checkpoints",
        params={"cursor": listed.json()["next_cursor"]},
        headers=tenant.headers,
    )
    assert [c["tree_size"] for c in rest.json()["items"]] == [old["tree_size"]]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"first": 0, "second": 2},
        {"first": 3, "second": 2},
        {"first": 1, "second": 10_000},
        {"first": "x", "second": 2},
        {"first": 1, "second": 2**70},
        {"first": 1},
    ],
)
async def test_impossible_consistency_proofs_are_422(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any]
) -> None:
    await _publish(client, tenant)
    answer = await client.get(
        "/api/v1/audit/consistency-proof", params=params, headers=tenant.headers
    )
    assert_problem(answer, 422)


@pytest.mark.parametrize("tree_size", ["0", "-1", "x", "10000", str(2**70)])
async def test_impossible_inclusion_tree_sizes_are_422(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, tree_size: str
) -> None:
    await _publish(client, tenant)
    event_id = (await _entry_ids(runtime, tenant))[0]
    answer = await client.get(
        f"/api/v1/audit/events/{event_id}/inclusion-proof",
        params={"tree_size": tree_size},
        headers=tenant.headers,
    )
    assert_problem(answer, 422)


@pytest.mark.parametrize(
    "cursor", ["x", "WzBd", "WyJhIl0", "Wy0xXQ", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMF0"]
)
async def test_a_bad_checkpoint_cursor_is_422(
    client: httpx.AsyncClient, tenant: Tenant, cursor: str
) -> None:
    answer = await client.get(
        "/api/v1/audit/checkpoints", params={"cursor": cursor}, headers=tenant.headers
    )
    assert_problem(answer, 422, "invalid-cursor")


async def test_another_organizations_entry_is_404(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    await _publish(client, other)
    await _publish(client, tenant)
    theirs = (await _entry_ids(runtime, other))[0]
    answer = await client.get(
        f"/api/v1/audit/events/{theirs}/inclusion-proof", headers=tenant.headers
    )
    assert_problem(answer, 404, "audit-event-not-found")
    unknown = await client.get(
        f"/api/v1/audit/events/{uuid.uuid4()}/inclusion-proof", headers=tenant.headers
    )
    assert_problem(unknown, 404, "audit-event-not-found")
    malformed = await client.get(
        "/api/v1/audit/events/not-a-uuid/inclusion-proof", headers=tenant.headers
    )
    assert_problem(malformed, 422)


async def test_an_entry_not_yet_sequenced_is_409(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await _publish(client, tenant)
    await write_entries(runtime, tenant.org_id, 1)
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(tenant.org_id)}
        )
        newest = await session.scalar(
            text("SELECT id FROM audit_events WHERE org_id = :org ORDER BY seq DESC LIMIT 1"),
            {"org": tenant.org_id},
        )
    answer = await client.get(
        f"/api/v1/audit/events/{newest}/inclusion-proof", headers=tenant.headers
    )
    assert_problem(answer, 409, "audit-entry-not-sequenced")


async def test_verify_answers_intact(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await write_entries(runtime, tenant.org_id, 4)
    checkpoint = await _publish(client, tenant)
    answer = await client.post("/api/v1/audit/verify", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "intact"
    assert report["problem"] is None
    assert report["tree_size"] == checkpoint["tree_size"]
    assert report["checkpoint"]["signature_valid"] is True
    assert report["checkpoint"]["root_matches"] is True


async def test_readers_read_proofs_and_only_admins_publish_or_verify(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    await _publish(client, tenant)
    analyst = await make_member(tenant, ["analyst"], ["read"])
    viewer = await make_member(tenant, ["viewer"], ["read"])
    latest = await client.get("/api/v1/audit/checkpoints/latest", headers=analyst.headers)
    assert latest.status_code == 200
    assert_problem(
        await client.get("/api/v1/audit/checkpoints/latest", headers=viewer.headers), 403
    )
    assert_problem(await client.post("/api/v1/audit/checkpoints", headers=analyst.headers), 403)
    assert_problem(await client.post("/api/v1/audit/verify", headers=analyst.headers), 403)
    assert_problem(await client.get("/api/v1/audit/checkpoints/latest"), 401)
    # An admin's key with only the broad write scope does not reach audit:manage.
    writer = await make_member(tenant, ["admin"], ["write"])
    assert_problem(await client.post("/api/v1/audit/verify", headers=writer.headers), 403)


async def test_a_rotated_key_stays_listed_and_old_checkpoints_still_verify(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    old = await _publish(client, tenant)
    async with runtime.db.sessionmaker() as session, session.begin():
        new_key = await rotate_key(session, runtime.keyring, runtime.clock.now())
    await write_entries(runtime, tenant.org_id, 1)
    new = await _publish(client, tenant)
    assert new["key_id"] == new_key.key_id != old["key_id"]
    keys = {
        k["kid"]: k
        for k in (await client.get("/.well-known/sprintconnect-audit-keys")).json()["keys"]
    }
    assert keys[old["key_id"]]["retired_at"] is not None
    assert keys[new["key_id"]]["retired_at"] is None
    for checkpoint in (old, new):
        note = signing.parse_note(checkpoint["note"])
        x = keys[note.key_id]["x"]
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        assert signing.verify_signature(raw, note.body, note.signature)
    verified = await client.post("/api/v1/audit/verify", headers=tenant.headers)
    assert verified.json()["status"] == "intact"
