"""Exports verified offline (``audit.ledger.offline``; ``sprintconnect audit verify-export``)
and the ``sprintconnect audit`` commands."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner, Result

from sprintconnect.audit.export import entry_record
from sprintconnect.audit.ledger import service
from sprintconnect.audit.ledger.cli import register
from sprintconnect.audit.ledger.offline import verify_export
from sprintconnect.db.owner import owner_transaction
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import as_owner, checkpoint_now, sequence_now, write_entries
from tests.conftest import TEST_SECRET, Tenant


async def _export(runtime: Runtime, tenant: Tenant, path: Path, first: int) -> dict[str, Any]:
    """An NDJSON export of leaves ``first`` to the end, in the layout the export endpoint
    writes, with the ledger's evidence."""
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(tenant.org_id)}
        )
        rows = (
            (
                await session.execute(
                    text(
                        "SELECT e.*, l.leaf_index FROM audit_events e LEFT JOIN audit_leaves l "
                        "ON l.org_id = e.org_id AND l.event_id = e.id WHERE e.org_id = :org "
                        "ORDER BY e.seq"
                    ),
                    {"org": tenant.org_id},
                )
            )
            .mappings()
            .all()
        )
    chosen = [r for r in rows if r["leaf_index"] is None or r["leaf_index"] >= first]
    last = max(r["leaf_index"] for r in chosen if r["leaf_index"] is not None)
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        evidence = await service.evidence_for_range(session, tenant.org_id, first, last)
    lines = [
        {
            "type": "header",
            "format": "sprintconnect-audit-export",
            "version": 1,
            "org_id": str(tenant.org_id),
        }
    ]
    lines += [{"type": "entry", **entry_record(r, r["leaf_index"])} for r in chosen]
    lines.append({"type": "evidence", **evidence})
    _write(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return evidence


def _write(path: Path, content: str) -> None:
    path.write_text(content)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
async def exported(runtime: Runtime, tenant: Tenant, tmp_path: Path) -> Path:
    await write_entries(runtime, tenant.org_id, 9)
    await checkpoint_now(runtime, tenant.org_id)
    await write_entries(runtime, tenant.org_id, 2)  # after the checkpoint: not covered
    await sequence_now(runtime, tenant.org_id)
    await write_entries(runtime, tenant.org_id, 1)  # not even sequenced
    path = tmp_path / "audit.ndjson"
    await _export(runtime, tenant, path, first=5)
    return path


async def test_an_export_verifies_offline(exported: Path) -> None:
    check = verify_export(exported)
    assert check.ok, check.problems
    assert check.range == (5, 12)  # 4 bootstrap entries + 9: the checkpoint's 13 leaves
    assert check.verified == 8
    assert check.not_covered == 3


async def test_an_edited_entry_in_the_export_fails(exported: Path) -> None:
    lines = _lines(exported)
    entry = json.loads(lines[3])
    entry["details"]["n"] = 12345
    lines[3] = json.dumps(entry, ensure_ascii=False)
    _rewrite(exported, lines)
    check = verify_export(exported)
    assert not check.ok
    assert any("do not match the signed checkpoint" in p for p in check.problems)


async def test_a_missing_entry_fails(exported: Path) -> None:
    lines = _lines(exported)
    del lines[4]
    _rewrite(exported, lines)
    check = verify_export(exported)
    assert any("is not in the export" in p for p in check.problems)


async def test_a_forged_signature_fails(exported: Path) -> None:
    lines = _lines(exported)
    evidence = json.loads(lines[-1])
    evidence["checkpoint"]["note"] = evidence["checkpoint"]["note"].replace("\n13\n", "\n14\n")
    lines[-1] = json.dumps(evidence)
    _rewrite(exported, lines)
    check = verify_export(exported)
    assert not check.ok


async def test_the_published_keys_file_is_used_when_given(
    exported: Path, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    _write(keys, (await client.get("/.well-known/sprintconnect-audit-keys")).text)
    check = verify_export(exported, keys)
    assert check.ok, check.problems
    assert check.key_source is not None
    assert "keys file" in check.key_source
    _write(keys, '{"keys": []}')
    assert not verify_export(exported, keys).ok


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


async def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, _app(), args, env=env)


async def test_the_verify_export_command(exported: Path, tmp_path: Path) -> None:
    result = await _invoke(["verify-export", str(exported)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True
    bad = tmp_path / "bad.ndjson"
    _rewrite(bad, [line.replace('"n": 3', '"n": 4') for line in _lines(exported)])
    assert (await _invoke(["verify-export", str(bad)])).exit_code == 1
    garbage = tmp_path / "garbage.ndjson"
    _write(garbage, "not json at all\n")
    assert (await _invoke(["verify-export", str(garbage)])).exit_code == 2


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "SPRINTCONNECT_DATABASE_URL": database_url,
        "SPRINTCONNECT_SECRET_KEY": TEST_SECRET,
        "SPRINTCONNECT_DATA_DIR": str(data_dir),
        "SPRINTCONNECT_LOG_FORMAT": "console",
    }


async def test_the_verify_command_names_tampering(
    runtime: Runtime, tenant: Tenant, database_url: str, tmp_path: Path
) -> None:
    await write_entries(runtime, tenant.org_id, 3)
    await checkpoint_now(runtime, tenant.org_id)
    env = _env(database_url, tmp_path)
    intact = await _invoke(["verify", "--org", tenant.slug], env)
    assert intact.exit_code == 0, intact.output
    assert json.loads(intact.stdout)["status"] == "intact"
    await as_owner(
        runtime,
        tenant.org_id,
        "UPDATE audit_events SET tag = 'org:forged:x' "
        "WHERE id = (SELECT id FROM audit_events WHERE org_id = :org ORDER BY seq LIMIT 1)",
    )
    tampered = await _invoke(["verify", "--org", tenant.slug], env)
    assert tampered.exit_code == 1
    report = json.loads(tampered.stdout)
    assert report["problem"]["class"] == "edited"
    assert report["problem"]["leaf_index"] == 0


async def test_the_rotate_key_command(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    result = await _invoke(["rotate-key"], _env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    key_id = json.loads(result.stdout)["key_id"]
    keys = (await client.get("/.well-known/sprintconnect-audit-keys")).json()["keys"]
    active = [k["kid"] for k in keys if k["retired_at"] is None]
    assert active == [key_id]


async def test_the_json_layout_verifies_too(exported: Path, tmp_path: Path) -> None:
    parts = [json.loads(line) for line in _lines(exported)]
    whole = {
        "header": {k: v for k, v in parts[0].items() if k != "type"},
        "entries": [{k: v for k, v in p.items() if k != "type"} for p in parts[1:-1]],
        "evidence": {k: v for k, v in parts[-1].items() if k != "type"},
    }
    path = tmp_path / "audit.json"
    _write(path, json.dumps(whole))
    check = verify_export(path)
    assert check.ok, check.problems
    assert check.verified == 8
