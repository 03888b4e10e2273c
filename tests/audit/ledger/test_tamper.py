"""Each tamper class, done directly as the database owner, is named by verify (issue 13)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import Ledger, as_owner, verify_now
from tests.conftest import Tenant


async def test_an_untouched_ledger_is_intact(
    runtime: Runtime, tenant: Tenant, ledger: Ledger
) -> None:
    await ledger(12)
    report = await verify_now(runtime, tenant.org_id)
    assert report.intact, report
    assert report.problem is None
    assert report.checkpoint is not None
    assert report.checkpoint.signature_valid
    assert report.checkpoint.root_matches
    assert report.tree_size == report.checkpoint.tree_size


async def test_an_edited_entry_is_named(runtime: Runtime, tenant: Tenant, ledger: Ledger) -> None:
    leaves = await ledger(10)
    victim = leaves[6]
    await as_owner(
        runtime,
        tenant.org_id,
        "UPDATE audit_events SET details = details || '{\"n\": 999}' WHERE id = :id",
        id=victim["event_id"],
    )
    report = await verify_now(runtime, tenant.org_id)
    assert not report.intact
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("edited", 6)
    assert report.problem.event_id == victim["event_id"]
    assert report.checkpoint is not None
    assert not report.checkpoint.root_matches


async def test_a_deleted_entry_is_named(runtime: Runtime, tenant: Tenant, ledger: Ledger) -> None:
    leaves = await ledger(10)
    await as_owner(
        runtime,
        tenant.org_id,
        "DELETE FROM audit_events WHERE id = :id",
        id=leaves[3]["event_id"],
    )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("deleted", 3)
    assert report.problem.event_id == leaves[3]["event_id"]


async def test_a_forged_entry_inserted_into_history_is_named(
    runtime: Runtime, tenant: Tenant, ledger: Ledger
) -> None:
    leaves = await ledger(10)
    # Between leaves 4 and 5, with a transaction id long ended, as if it had always been
    # there (a copy of the neighbour's could still be above the horizon while another
    # database's transaction runs: then it counts as pending, which is not the point here).
    await as_owner(
        runtime,
        tenant.org_id,
        "INSERT INTO audit_events "
        "(id, org_id, seq, occurred_at, tag, actor_type, details, xact_id) "
        "OVERRIDING SYSTEM VALUE "
        "SELECT gen_random_uuid(), org_id, seq + 0, occurred_at, 'org:role:assigned', 'system', "
        "'{}'::jsonb, 1 FROM audit_events WHERE id = :id",
        id=leaves[4]["event_id"],
    )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is not None
    assert report.problem.kind == "inserted"
    assert report.problem.leaf_index == 5
    assert report.problem.event_id not in {leaf["event_id"] for leaf in leaves}


async def test_two_swapped_entries_are_named_reordered(
    runtime: Runtime, tenant: Tenant, ledger: Ledger
) -> None:
    leaves = await ledger(10)
    a, b = leaves[2], leaves[7]
    # Swap the two entries' places: each moves, whole, to the other's seq.
    await as_owner(
        runtime,
        tenant.org_id,
        "CREATE TEMP TABLE pair ON COMMIT DROP AS SELECT * FROM audit_events WHERE id IN (:a, :b)",
        "DELETE FROM audit_events WHERE id IN (:a, :b)",
        "UPDATE pair SET seq = CASE WHEN id = :a THEN :seq_b ELSE :seq_a END",
        "INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM pair",
        a=a["event_id"],
        b=b["event_id"],
        seq_a=a["seq"],
        seq_b=b["seq"],
    )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("reordered", 2)


async def test_a_truncated_tail_is_named(runtime: Runtime, tenant: Tenant, ledger: Ledger) -> None:
    leaves = await ledger(10)
    await as_owner(
        runtime,
        tenant.org_id,
        "DELETE FROM audit_events WHERE org_id = :org AND seq >= :seq",
        seq=leaves[7]["seq"],
    )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("truncated", 7)


async def test_a_truncated_leaf_table_is_named(
    runtime: Runtime, tenant: Tenant, ledger: Ledger
) -> None:
    leaves = await ledger(10)
    await as_owner(
        runtime,
        tenant.org_id,
        "DELETE FROM audit_events WHERE org_id = :org AND seq >= :seq;",
        seq=leaves[8]["seq"],
    )
    await as_owner(
        runtime,
        tenant.org_id,
        "DELETE FROM audit_leaves WHERE org_id = :org AND leaf_index >= 8",
    )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("truncated", 8)
    assert report.checkpoint is not None
    assert not report.checkpoint.root_matches


async def test_a_consistent_rewrite_of_entry_and_leaf_fails_the_signed_checkpoint(
    runtime: Runtime, tenant: Tenant, ledger: Ledger
) -> None:
    """The owner edits an entry and rewrites its leaf hash and every chain hash after it:
    entries and leaves agree again, but the signed root does not."""
    from sprintconnect.audit.ledger import encoding
    from sprintconnect.db.owner import owner_transaction

    await ledger(4)  # a checkpoint of 8 leaves (4 from the bootstrap)
    leaves = await ledger(5)  # and one of 13
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(tenant.org_id)}
        )
        await session.execute(
            text("UPDATE audit_events SET tag = 'org:forged:thing' WHERE id = :id"),
            {"id": leaves[9]["event_id"]},
        )
        rows = (
            (
                await session.execute(
                    text(
                        "SELECT e.*, l.leaf_index FROM audit_leaves l JOIN audit_events e "
                        "ON e.id = l.event_id WHERE l.org_id = :org ORDER BY l.leaf_index"
                    ),
                    {"org": tenant.org_id},
                )
            )
            .mappings()
            .all()
        )
        chain = None
        for row in rows:
            leaf = encoding.leaf_hash(dict(row))
            chain = encoding.chain_hash(chain, leaf)
            await session.execute(
                text(
                    "UPDATE audit_leaves SET leaf_hash = :h, chain_hash = :c "
                    "WHERE org_id = :org AND leaf_index = :i"
                ),
                {"h": leaf, "c": chain, "org": tenant.org_id, "i": row["leaf_index"]},
            )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is None
    assert not report.intact
    assert report.checkpoint is not None
    assert report.checkpoint.signature_valid
    assert not report.checkpoint.root_matches
    # The rewrite lies between the last checkpoint that still matches and the first that not.
    assert (report.last_matching_checkpoint, report.first_mismatching_checkpoint) == (8, 13)


async def test_a_rewritten_leaf_hash_breaks_the_chain(
    runtime: Runtime, tenant: Tenant, ledger: Ledger
) -> None:
    leaves = await ledger(6)
    await as_owner(
        runtime,
        tenant.org_id,
        "UPDATE audit_leaves SET leaf_hash = sha256('x') WHERE org_id = :org AND leaf_index = 2",
    )
    report = await verify_now(runtime, tenant.org_id)
    assert report.problem is not None
    assert report.problem.kind == "edited"
    assert report.problem.leaf_index == 2
    assert report.problem.event_id == leaves[2]["event_id"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET tag = 'forged'",
        "DELETE FROM audit_events",
        "UPDATE audit_leaves SET leaf_hash = ''",
        "DELETE FROM audit_leaves",
        "UPDATE audit_checkpoints SET tree_size = 0",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_signing_keys",
        "UPDATE audit_signing_keys SET public_key = ''",
        "TRUNCATE audit_leaves",
    ],
)
async def test_the_application_cannot_change_the_ledger(
    runtime: Runtime, tenant: Tenant, statement: str
) -> None:
    async with runtime.db.sessionmaker() as session:
        await bind_tenant(session, tenant.org_id)
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text(statement))
        await session.rollback()
