"""Exporting the audit log: the NDJSON, JSON and CSV layouts, filters, tenancy, its own entry."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprintconnect.audit.export import ENTRY_COLUMNS
from sprintconnect.audit.ledger.offline import verify_export
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import checkpoint_now, write_entries
from tests.audit.reading import EVENTS, put
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem

EXPORT = f"{EVENTS}/export"
EXPORTED = "org:audit:exported"


async def _seed(runtime: Runtime, tenant: Tenant, mark: str) -> list[uuid.UUID]:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        await put(
            runtime,
            tenant.org_id,
            tag,
            actor=("api_key", str(tenant.key_id)),
            target=("mcp_server", f"s{n}"),
            details={"marker": mark, "n": n},
            at=base + timedelta(hours=n),
            request_id=f"req-{n}",
        )
        for n, tag in enumerate(
            ["org:server:registered", "org:server:updated", "org:api_key:auth_failed"]
        )
    ]


def _seeded(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the export's own entry (``org:audit:exported``)."""
    return [e for e in entries if e.get("tag") != EXPORTED]


def _lines(answer: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in answer.text.splitlines()]


async def test_ndjson_has_a_header_then_every_entry_oldest_first(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    ids = await _seed(runtime, tenant, mark)
    answer = await client.get(EXPORT, params={"q": mark}, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="audit-')
    assert disposition.endswith('.ndjson"')
    header, *entries = _lines(answer)
    assert header["type"] == "header"
    assert header["format"] == "sprintconnect-audit-export"
    assert header["version"] == 1
    assert header["org_id"] == str(tenant.org_id)
    assert header["filters"] == {"q": mark}
    # No evidence line until the ledger has sequenced the entries. The export's own entry was
    # committed before the export began, and it matches the filter (its details hold it).
    assert [e["type"] for e in entries] == ["entry"] * 4
    assert [e["id"] for e in entries[:3]] == [str(i) for i in ids]
    assert entries[3]["tag"] == "org:audit:exported"
    first = entries[0]
    assert set(first) == {"type", "leaf_index", *ENTRY_COLUMNS}
    assert first["org_id"] == str(tenant.org_id)
    assert first["tag"] == "org:server:registered"
    assert first["details"] == {"marker": mark, "n": 0}
    assert first["occurred_at"] == "2025-01-01T00:00:00.000000+00:00"
    assert first["request_id"] == "req-0"


async def test_json_is_one_object_with_the_same_parts(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    ids = await _seed(runtime, tenant, mark)
    answer = await client.get(EXPORT, params={"q": mark, "format": "json"}, headers=tenant.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["header"]["filters"] == {"q": mark}
    assert [e["id"] for e in _seeded(body["entries"])] == [str(i) for i in ids]
    empty = await client.get(
        EXPORT, params={"q": uuid.uuid4().hex, "format": "json"}, headers=tenant.headers
    )
    assert _seeded(empty.json()["entries"]) == []


async def test_csv_has_entries_only_and_defuses_formulas(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    await _seed(runtime, tenant, mark)
    await put(
        runtime,
        tenant.org_id,
        "org:server:updated",
        target=("mcp_server", "=HYPERLINK(1)"),
        details={"marker": mark},
        at=datetime(2025, 1, 2, tzinfo=UTC),
    )
    answer = await client.get(EXPORT, params={"q": mark, "format": "csv"}, headers=tenant.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = [r for r in csv.DictReader(io.StringIO(answer.text)) if r["action"] != EXPORTED]
    assert [r["action"] for r in rows] == [
        "org:server:registered",
        "org:server:updated",
        "org:api_key:auth_failed",
        "org:server:updated",
    ]
    assert [r["outcome"] for r in rows] == ["success", "success", "failure", "success"]
    assert json.loads(rows[0]["details"]) == {"marker": mark, "n": 0}
    assert rows[3]["target_id"] == "'=HYPERLINK(1)"


async def test_filters_and_range_apply(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    ids = await _seed(runtime, tenant, mark)
    params = {
        "q": mark,
        "from": "2025-01-01T01:00:00Z",
        "to": "2025-01-01T03:00:00+00:00",
        "outcome": "success",
    }
    answer = await client.get(EXPORT, params=params, headers=tenant.headers)
    entries = [e for e in _lines(answer) if e["type"] == "entry"]
    assert [e["id"] for e in _seeded(entries)] == [str(ids[1])]


async def test_an_export_is_audited(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    answer = await client.get(EXPORT, params={"q": mark, "format": "csv"}, headers=tenant.headers)
    assert answer.status_code == 200
    listed = await client.get(
        EVENTS, params={"action": "org:audit:exported", "q": mark}, headers=tenant.headers
    )
    [entry] = listed.json()["items"]
    assert entry["details"] == {"format": "csv", "filters": {"q": mark}}
    assert entry["actor"]["id"] == str(tenant.key_id)
    assert entry["request_id"] == answer.headers["x-request-id"]


async def test_an_export_holds_only_the_callers_organization(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, runtime: Runtime
) -> None:
    mark = uuid.uuid4().hex
    other = await make_tenant()
    await _seed(runtime, other, mark)
    answer = await client.get(EXPORT, params={"q": mark}, headers=tenant.headers)
    assert [e["type"] for e in _seeded(_lines(answer))] == ["header"]
    whole = await client.get(EXPORT, headers=tenant.headers)
    orgs = {e["org_id"] for e in _lines(whole) if e["type"] == "entry"}
    assert orgs == {str(tenant.org_id)}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xml", "format"),
        ("from=2025-01-01", "from"),
        ("from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "to"),
        ("q=x", "q"),
        ("action=ORG", "action"),
        ("limit=5", "limit"),
    ],
)
async def test_malformed_export_requests_are_422(
    client: httpx.AsyncClient, tenant: Tenant, query: str, field: str
) -> None:
    body = assert_problem(await client.get(f"{EXPORT}?{query}", headers=tenant.headers), 422)
    assert any(error["loc"][-1] == field for error in body["errors"]), body


async def test_export_needs_audit_read(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    assert_problem(await client.get(EXPORT, headers=viewer.headers), 403)


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
async def test_an_export_verifies_offline_and_an_edit_does_not(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, tmp_path: Path, fmt: str
) -> None:
    await write_entries(runtime, tenant.org_id, 6)
    assert await checkpoint_now(runtime, tenant.org_id) is not None
    answer = await client.get(EXPORT, params={"format": fmt}, headers=tenant.headers)
    assert answer.status_code == 200
    path = tmp_path / f"audit.{fmt}"
    path.write_bytes(answer.content)
    check = verify_export(path)
    assert check.ok, check.problems
    assert check.verified >= 6
    # Entries written after the checkpoint (this export's own) are counted, not verified.
    assert check.not_covered >= 1
    if fmt == "ndjson":
        lines = _lines(answer)
        assert lines[-1]["type"] == "evidence"
        assert lines[-1]["checkpoint"]["tree_size"] == check.checkpoint_size
        sequenced = [e for e in lines[1:-1] if e["leaf_index"] is not None]
        assert [e["leaf_index"] for e in sequenced] == list(range(len(sequenced)))
        # One edited entry, and the file no longer verifies.
        lines[2]["details"] = {**lines[2]["details"], "n": 99}
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        assert not verify_export(path).ok
