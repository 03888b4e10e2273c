"""Reading the audit log: newest first, cursor pages, every filter, one entry, permissions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import sequence_now, write_entries
from tests.audit.reading import EVENTS, put
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem


async def _all(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    """Every entry the filters match, following cursors (small pages)."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 2, **params}
    while True:
        answer = await client.get(EVENTS, params=query, headers=tenant.headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        query["cursor"] = body["next_cursor"]


async def test_pages_are_newest_first_and_cover_every_entry_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    server = str(uuid.uuid4())
    base = datetime(2026, 3, 1, tzinfo=UTC)
    # Two entries share a time: the append order (seq) breaks the tie.
    times = [base, base + timedelta(minutes=1), base + timedelta(minutes=1), base + timedelta(1)]
    ids = [
        await put(runtime, tenant.org_id, "org:server:updated", target=("mcp_server", server), at=t)
        for t in times
    ]
    found = await _all(client, tenant, target_id=server)
    assert [e["id"] for e in found] == [str(i) for i in reversed(ids)]
    seqs = [e["seq"] for e in found]
    assert len(set(seqs)) == 4
    assert seqs[1] > seqs[2]  # same time: the later append first


async def test_an_entry_shows_every_field(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    entry_id = await put(
        runtime,
        tenant.org_id,
        "org:server:registered",
        actor=("api_key", str(tenant.key_id)),
        target=("mcp_server", "srv-1"),
        details={"name": "weather"},
        request_id="req-fields-1",
    )
    answer = await client.get(f"{EVENTS}/{entry_id}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    entry = answer.json()
    assert entry["id"] == str(entry_id)
    assert entry["action"] == "org:server:registered"
    assert entry["actor"]["type"] == "api_key"
    assert entry["actor"]["id"] == str(tenant.key_id)
    prefix = tenant.key.split("_")[1]
    assert entry["actor"]["display"].endswith(f"(sc_{prefix})")
    assert entry["target"] == {"type": "mcp_server", "id": "srv-1"}
    assert entry["outcome"] == "success"
    assert entry["request_id"] == "req-fields-1"
    assert entry["details"] == {"name": "weather"}
    assert entry["leaf_index"] is None
    assert entry["occurred_at"].endswith("Z") or "+00:00" in entry["occurred_at"]
    assert isinstance(entry["seq"], int)


async def test_all_activity_of_a_user_includes_their_keys(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["engineer"])
    mark = {"marker": uuid.uuid4().hex}
    own = await put(
        runtime,
        tenant.org_id,
        "org:role:updated",
        actor=("user", str(member.user_id)),
        details=mark,
    )
    by_key = await put(
        runtime,
        tenant.org_id,
        "org:server:deleted",
        actor=("api_key", str(member.key_id)),
        details=mark,
    )
    other = await put(
        runtime,
        tenant.org_id,
        "org:server:deleted",
        actor=("api_key", str(tenant.key_id)),
        details=mark,
    )
    q = mark["marker"]
    assert {e["id"] for e in await _all(client, tenant, actor_id=str(member.user_id), q=q)} == {
        str(own),
        str(by_key),
    }
    as_user = await _all(client, tenant, actor_type="user", actor_id=str(member.user_id), q=q)
    assert {e["id"] for e in as_user} == {str(own), str(by_key)}
    # A key alone: only that key's entries.
    as_key = await _all(client, tenant, actor_type="api_key", actor_id=str(member.key_id), q=q)
    assert [e["id"] for e in as_key] == [str(by_key)]
    assert [e["id"] for e in await _all(client, tenant, actor_type="api_key", q=q)] == [
        str(other),
        str(by_key),
    ]
    # The member's display name or email is shown for their own entries.
    [shown] = [e for e in as_user if e["id"] == str(own)]
    assert shown["actor"]["display"]


async def test_action_exact_and_prefix(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    d = {"marker": mark}
    a = await put(runtime, tenant.org_id, "org:server:registered", details=d)
    b = await put(runtime, tenant.org_id, "org:server:deleted", details=d)
    c = await put(runtime, tenant.org_id, "org:server_health:checked", details=d)
    f = await put(runtime, tenant.org_id, "org:api_key:auth_failed", details=d)

    async def ids(action: str) -> set[str]:
        return {e["id"] for e in await _all(client, tenant, action=action, q=mark)}

    assert await ids("org:server:registered") == {str(a)}
    assert await ids("org:server:") == {str(a), str(b)}
    assert await ids("org:server*") == {str(a), str(b), str(c)}
    assert await ids("org:api_key:auth_*") == {str(f)}
    assert await ids("org:server") == set()  # exact: no tag is just that


async def test_target_outcome_and_date_range(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    d = {"marker": mark}
    t0 = datetime(2025, 6, 1, 12, tzinfo=UTC)
    ok = await put(
        runtime, tenant.org_id, "org:server:updated", target=("mcp_server", "s1"), details=d, at=t0
    )
    refused = await put(
        runtime,
        tenant.org_id,
        "org:api_key:auth_revoked",
        target=("api_key", "k1"),
        details=d,
        at=t0 + timedelta(hours=1),
    )
    failed = await put(
        runtime,
        tenant.org_id,
        "org:server:updated",
        target=("mcp_server", "s2"),
        details={**d, "outcome": "failure"},
        at=t0 + timedelta(hours=2),
    )

    async def ids(**params: Any) -> set[str]:
        return {e["id"] for e in await _all(client, tenant, q=mark, **params)}

    assert await ids(target_type="mcp_server") == {str(ok), str(failed)}
    assert await ids(target_type="mcp_server", target_id="s2") == {str(failed)}
    assert await ids(target_id="k1") == {str(refused)}
    assert await ids(outcome="failure") == {str(refused), str(failed)}
    assert await ids(outcome="success") == {str(ok)}
    # from inclusive, to exclusive; any offset, compared in UTC.
    assert await ids(**{"from": t0.isoformat(), "to": (t0 + timedelta(hours=1)).isoformat()}) == {
        str(ok)
    }
    assert await ids(**{"from": "2025-06-01T14:00:00+01:00"}) == {str(refused), str(failed)}
    assert await ids(to="2025-06-01T12:00:00Z") == set()
    [shown] = await _all(client, tenant, q=mark, target_id="k1")
    assert shown["outcome"] == "failure"


async def test_free_text_matches_ids_exactly_and_words_in_details(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    word = f"Zebra{uuid.uuid4().hex[:10]}"
    in_details = await put(
        runtime, tenant.org_id, "org:server:updated", details={"note": f"the {word} tool", "n": 7}
    )
    request = await put(runtime, tenant.org_id, "org:server:updated", request_id=word)
    target = await put(runtime, tenant.org_id, "org:server:updated", target=("mcp_server", word))
    actor = await put(runtime, tenant.org_id, "org:server:updated", actor=("user", word))
    assert {e["id"] for e in await _all(client, tenant, q=word)} == {
        str(in_details),
        str(request),
        str(target),
        str(actor),
    }
    # Words of the details in any case, phrases, and negation; ids only whole.
    assert [e["id"] for e in await _all(client, tenant, q=word.upper())] == [str(in_details)]
    assert [e["id"] for e in await _all(client, tenant, q=f'"the {word}"')] == [str(in_details)]
    assert await _all(client, tenant, q=f"{word} -tool") == []
    assert [e["id"] for e in await _all(client, tenant, q=f"{word} -lorry")] == [str(in_details)]
    assert await _all(client, tenant, q=word[:-1]) == []
    # An entry's own id.
    [by_id] = await _all(client, tenant, q=str(in_details))
    assert by_id["id"] == str(in_details)
    # Search syntax and quoting are only text here.
    for odd in ("%%%", "___", "' OR 1=1 --", "a\\b\\c", "日本語テキスト", "!!! & | <->", '"""'):
        assert await _all(client, tenant, q=odd) == []


async def test_another_organizations_entry_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, runtime: Runtime
) -> None:
    other = await make_tenant()
    theirs = await put(
        runtime,
        other.org_id,
        "org:server:deleted",
        target=("mcp_server", "x"),
        details={"m": "cross"},
    )
    assert_problem(
        await client.get(f"{EVENTS}/{theirs}", headers=tenant.headers), 404, "audit-event-not-found"
    )
    assert_problem(
        await client.get(f"{EVENTS}/{uuid.uuid4()}", headers=tenant.headers),
        404,
        "audit-event-not-found",
    )
    listed = await _all(client, tenant, q=str(theirs))
    assert listed == []
    # Their details' words are theirs: the details search is bound to the caller's tenant.
    word = f"secretword{uuid.uuid4().hex[:8]}"
    await put(runtime, other.org_id, "org:server:updated", details={"note": word})
    assert await _all(client, tenant, q=word) == []
    assert len(await _all(client, other, q=word)) == 1
    async with runtime.db.sessionmaker() as session:
        unbound = await session.execute(
            text("SELECT count(*) FROM sc_audit_details_matches(:q, null, null, 10)"), {"q": word}
        )
        assert unbound.scalar_one() == 0
    assert (await client.get(f"{EVENTS}/{theirs}", headers=other.headers)).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actor_type=User!", "actor_type"),
        ("actor_id=" + "x" * 65, "actor_id"),
        ("action=org%20server", "action"),
        ("action=*", "action"),
        ("action=org::x", "action"),
        ("target_type=Has%20Space", "target_type"),
        ("outcome=maybe", "outcome"),
        ("from=2026-01-01T00:00:00", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        ("q=ab", "q"),
        ("q=" + "y" * 201, "q"),
        ("cursor=bad", "cursor"),
        ("cursor=WyJ4IiwxXQ", "cursor"),  # ["x", 1]
        ("cursor=WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiMSJd", "cursor"),  # seq as text
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("nope=1", "nope"),
    ],
)
async def test_malformed_filters_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, query: str, field: str
) -> None:
    body = assert_problem(await client.get(f"{EVENTS}?{query}", headers=tenant.headers), 422)
    assert any(error["loc"][-1] == field for error in body["errors"]), body


async def test_a_malformed_id_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = assert_problem(await client.get(f"{EVENTS}/not-a-uuid", headers=tenant.headers), 422)
    assert body["errors"][0]["loc"] == ["path", "event_id"]


async def test_reading_needs_audit_read(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    assert_problem(await client.get(EVENTS, headers=viewer.headers), 403)
    analyst = await make_member(tenant, ["analyst"], ["read"])
    assert (await client.get(EVENTS, headers=analyst.headers)).status_code == 200
    narrow = await make_member(tenant, ["admin"], ["servers:read"])
    assert_problem(await client.get(EVENTS, headers=narrow.headers), 403, "insufficient-scope")
    assert_problem(await client.get(EVENTS), 401)


async def test_merged_alternatives_page_in_order_exactly_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, make_member: MemberFactory
) -> None:
    """A user's own entries and their keys' are separate index scans merged per page."""
    member = await make_member(tenant, ["engineer"])
    second = await client.post(
        f"/api/v1/users/{member.user_id}/api-keys",
        json={"name": "second", "scopes": ["read"], "never_expires": True},
        headers=tenant.headers,
    )
    assert second.status_code == 201, second.text
    actors = [
        ("user", str(member.user_id)),
        ("api_key", str(member.key_id)),
        ("api_key", second.json()["api_key"]["id"]),
    ]
    base = datetime(2024, 5, 1, tzinfo=UTC)
    made = []
    for n in range(12):
        # Interleaved times, and some entries at the same instant.
        at = base + timedelta(minutes=n // 2)
        actor = actors[n % 3]
        made.append(
            (at, await put(runtime, tenant.org_id, "org:server:updated", actor=actor, at=at))
        )
    window = {"from": base.isoformat(), "to": (base + timedelta(hours=1)).isoformat()}
    for limit in (1, 2, 5, 50):
        found = await _all(client, tenant, actor_id=str(member.user_id), limit=limit, **window)
        ids = [e["id"] for e in found]
        assert sorted(ids) == sorted(str(i) for _, i in made)
        keys = [(e["occurred_at"], e["seq"]) for e in found]
        assert keys == sorted(keys, reverse=True)


async def test_a_sequenced_entry_shows_its_leaf_index(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    await write_entries(runtime, tenant.org_id, 3)
    await sequence_now(runtime, tenant.org_id)
    page = (
        await client.get(EVENTS, params={"action": "org:server:updated"}, headers=tenant.headers)
    ).json()
    leaves = [e["leaf_index"] for e in page["items"]]
    assert len(leaves) == 3
    assert all(isinstance(i, int) for i in leaves)
    assert leaves == sorted(leaves, reverse=True)
    one = await client.get(f"{EVENTS}/{page['items'][0]['id']}", headers=tenant.headers)
    assert one.json()["leaf_index"] == leaves[0]
