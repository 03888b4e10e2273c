"""Proofs from the stored tree nodes: the same hashes as from every leaf, in O(log n) reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from sprintconnect.audit.ledger import service
from sprintconnect.audit.ledger.repository import NODE_LEVEL, LedgerRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.kit import merkle
from sprintconnect.models.audit_ledger import AuditTreeNode
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import (
    as_owner,
    checkpoint_now,
    leaves_of,
    sequence_now,
    verify_now,
    write_entries,
)
from tests.conftest import Tenant

SIZES = (255, 256, 257, 511, 512, 513, 1000, 1025)


async def _size(runtime: Runtime, org_id: UUID) -> int:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        return await service.tree_size(session, org_id)


async def _grow_to(runtime: Runtime, org_id: UUID, size: int, *, runs: int = 1) -> None:
    """Sequence entries until the tree has ``size`` leaves, in ``runs`` sequencing runs
    (so that tiles are completed across runs)."""
    current = await _size(runtime, org_id)
    assert current <= size
    for run in range(runs):
        target = current + (size - current) * (run + 1) // runs
        await write_entries(runtime, org_id, target - await _size(runtime, org_id))
        await sequence_now(runtime, org_id)
    assert await _size(runtime, org_id) == size


async def _leaf_hashes(runtime: Runtime, org_id: UUID, size: int) -> list[bytes]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        return [h async for h in LedgerRepository(session).leaf_hashes(org_id, size)]


async def _stored_nodes(runtime: Runtime, org_id: UUID) -> dict[merkle.Node, bytes]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        n = AuditTreeNode
        rows = await session.execute(
            select(n.level, n.node_index, n.hash).where(n.org_id == org_id)
        )
        return {(level, index): value for level, index, value in rows.all()}


def _all_ranges(size: int) -> list[merkle.Range]:
    ranges = {(0, size)}
    for index in range(size):
        ranges.update(merkle.inclusion_ranges(index, size))
    for first in range(1, size + 1):
        ranges.update(merkle.consistency_ranges(first, size))
        ranges.add((0, first))
    for first in range(size):
        ranges.update(merkle.perfect_ranges(first))
    return sorted(ranges)


async def test_every_proof_range_hashes_as_from_the_full_leaf_stream(
    runtime: Runtime, tenant: Tenant
) -> None:
    org = tenant.org_id
    assert await _size(runtime, org) < SIZES[0]
    for runs, size in enumerate(SIZES, start=1):
        await _grow_to(runtime, org, size, runs=1 + runs % 3)
        leaves = await _leaf_hashes(runtime, org, size)
        ranges = _all_ranges(size)
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org)
            hashes = await service.range_hashes(LedgerRepository(session), org, ranges)
        for (start, end), value in zip(ranges, hashes, strict=True):
            assert value == merkle.root(leaves[start:end]), (size, start, end)


async def test_stored_nodes_are_the_roots_of_their_leaves(runtime: Runtime, tenant: Tenant) -> None:
    org = tenant.org_id
    await _grow_to(runtime, org, 1300, runs=7)
    leaves = await _leaf_hashes(runtime, org, 1300)
    nodes = await _stored_nodes(runtime, org)
    expected = {(level, index) for level in range(NODE_LEVEL, 12) for index in range(1300 >> level)}
    assert set(nodes) == expected
    for node, value in nodes.items():
        start, end = merkle.node_range(node)
        assert value == merkle.root(leaves[start:end]), node


async def test_served_proofs_verify_around_tile_boundaries(
    runtime: Runtime, tenant: Tenant
) -> None:
    org = tenant.org_id
    for size in (256, 257, 513, 1025):
        await _grow_to(runtime, org, size, runs=2)
        leaves = await _leaf_hashes(runtime, org, size)
        root = merkle.root(leaves)
        events = [leaf["event_id"] for leaf in await leaves_of(runtime, org)]
        indices = {0, 1, 254, 255, 256, 257, 511, 512, 513, 767, 768, size - 2, size - 1}
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org)
            for index in sorted(i for i in indices if 0 <= i < size):
                proved = await service.inclusion(session, org, events[index], size)
                assert proved["root_hash"] == service.b64(root)
                proof = merkle.inclusion_proof(index, leaves)
                assert [service.b64(h) for h in proof] == proved["proof"]
                merkle.verify_inclusion(index, size, leaves[index], proof, root)
                first = index + 1
                shown = await service.consistency(session, org, first, size)
                first_root = merkle.root(leaves[:first])
                assert shown["first_root_hash"] == service.b64(first_root)
                assert shown["proof"] == [
                    service.b64(h) for h in merkle.consistency_proof(first, leaves)
                ]


@contextmanager
def _leaf_rows_fetched(runtime: Runtime) -> Iterator[list[int]]:
    """Rows fetched from ``audit_leaves`` by the application's engine while inside."""
    counted: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM audit_leaves" in statement:
            assert cursor.rowcount >= 0, "a leaf read through a server-side cursor"
            counted.append(cursor.rowcount)

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "after_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "after_cursor_execute", count)


async def test_an_inclusion_proof_reads_a_few_hundred_leaves_of_thousands(
    runtime: Runtime, tenant: Tenant
) -> None:
    org = tenant.org_id
    await write_entries(runtime, org, 5000)
    await checkpoint_now(runtime, org)
    size = await _size(runtime, org)
    assert size >= 5000
    leaves = await _leaf_hashes(runtime, org, size)
    root = merkle.root(leaves)
    events = [leaf["event_id"] for leaf in await leaves_of(runtime, org)]
    for index in (0, 300, 2999, size - 1):
        with _leaf_rows_fetched(runtime) as fetched:
            async with runtime.db.sessionmaker() as session, session.begin():
                await bind_tenant(session, org)
                proved = await service.inclusion(session, org, events[index], None)
        assert sum(fetched) < 600, fetched
        proof = [service.b64(h) for h in merkle.inclusion_proof(index, leaves)]
        assert proved["proof"] == proof
        assert proved["root_hash"] == service.b64(root)
    with _leaf_rows_fetched(runtime) as fetched:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org)
            shown = await service.consistency(session, org, 1777, size)
            evidence = await service.evidence_for_range(session, org, 1234, 3210)
    assert sum(fetched) < 1200, fetched
    assert shown["proof"] == [service.b64(h) for h in merkle.consistency_proof(1777, leaves)]
    frontier = merkle.Frontier()
    for leaf in leaves[:1234]:
        frontier.append(leaf)
    assert evidence["left_frontier"] == [service.b64(h) for h in frontier.hashes]
    assert evidence["consistency_proof"] == [
        service.b64(h) for h in merkle.consistency_proof(3211, leaves)
    ]


async def test_a_tampered_node_is_named_by_verify(runtime: Runtime, tenant: Tenant) -> None:
    org = tenant.org_id
    await write_entries(runtime, org, 600)
    await checkpoint_now(runtime, org)
    assert (await verify_now(runtime, org)).intact
    await as_owner(
        runtime,
        org,
        "UPDATE audit_tree_nodes SET hash = sha256(hash) "
        "WHERE org_id = :org AND level = 8 AND node_index = 1",
    )
    report = await verify_now(runtime, org)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("edited", 256)
    assert "tree node" in report.problem.detail
    assert "level 8, index 1" in report.problem.detail


async def test_a_deleted_or_added_node_is_named_by_verify(runtime: Runtime, tenant: Tenant) -> None:
    org = tenant.org_id
    await write_entries(runtime, org, 520)
    await checkpoint_now(runtime, org)
    await as_owner(
        runtime,
        org,
        "DELETE FROM audit_tree_nodes WHERE org_id = :org AND level = 9 AND node_index = 0",
    )
    report = await verify_now(runtime, org)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("edited", 0)
    assert "missing" in report.problem.detail
    await as_owner(
        runtime,
        org,
        "INSERT INTO audit_tree_nodes (org_id, level, node_index, hash) "
        "VALUES (:org, 9, 0, sha256('x'::bytea)), (:org, 12, 0, sha256('y'::bytea))",
    )
    report = await verify_now(runtime, org)
    assert report.problem is not None
    assert report.problem.kind == "edited"
    assert "node" in report.problem.detail


async def test_an_edited_entry_is_named_at_its_leaf_not_its_node(
    runtime: Runtime, tenant: Tenant
) -> None:
    org = tenant.org_id
    await write_entries(runtime, org, 600)
    await checkpoint_now(runtime, org)
    victim = (await leaves_of(runtime, org))[300]
    await as_owner(
        runtime,
        org,
        "UPDATE audit_events SET details = details || '{\"n\": -1}' WHERE id = :id",
        id=victim["event_id"],
    )
    report = await verify_now(runtime, org)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.leaf_index) == ("edited", 300)
    assert report.problem.event_id == victim["event_id"]


async def test_the_application_cannot_change_a_node(runtime: Runtime, tenant: Tenant) -> None:
    org = tenant.org_id
    await write_entries(runtime, org, 300)
    await sequence_now(runtime, org)
    for sql in (
        "UPDATE audit_tree_nodes SET hash = sha256(hash) WHERE org_id = :org",
        "DELETE FROM audit_tree_nodes WHERE org_id = :org",
    ):
        async with runtime.db.sessionmaker() as session:
            await bind_tenant(session, org)
            with pytest.raises(DBAPIError, match="permission denied"):
                await session.execute(text(sql), {"org": org})
            await session.rollback()


def test_tiled_parts_rebuild_every_tree_range_from_nodes_and_edge_leaves() -> None:
    """The pure side, with nodes from level 2 up (tiles of 4) so that small trees cross many
    tile boundaries."""
    for size in range(1, 70):
        leaves = [merkle.leaf_hash(bytes([size, i])) for i in range(size)]
        frontier = merkle.Frontier()
        nodes: dict[merkle.Node, bytes] = {}
        for leaf in leaves:
            nodes.update(frontier.append_nodes(leaf, 2))
        assert len(nodes) == sum(size >> level for level in range(2, 8))
        assert frontier.root() == merkle.root(leaves)
        for start, end in _all_ranges(size):
            wanted, edge = merkle.tiled_parts(start, end, 2)
            assert edge is None or edge[1] - edge[0] < 4
            edge_leaves = leaves[edge[0] : edge[1]] if edge else []
            value = merkle.tiled_root([nodes[n] for n in wanted], edge_leaves)
            assert value == merkle.root(leaves[start:end])


@pytest.mark.parametrize(("start", "end"), [(1, 3), (2, 5), (4, 4), (3, 2), (-1, 0), (6, 10)])
def test_a_range_that_is_no_subtree_is_refused(start: int, end: int) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.tiled_parts(start, end, 8)
