"""SQL for the audit ledger: sequencing, leaves, tree nodes, checkpoints, signing keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, and_, func, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditLeaf,
    AuditLedgerHead,
    AuditSigningKey,
)
from sprintconnect.models.audit_ledger import AuditTreeNode

# audit_tree_nodes holds every perfect aligned subtree of 2 ** NODE_LEVEL (256) leaves and more.
NODE_LEVEL = 8
_ENTRY_COLUMNS = [c for c in AuditEvent.__table__.columns if c.name != "xact_id"]
# Signing keys are created and rotated one at a time, across every process.
_KEYS_LOCK = "audit-ledger:signing-keys"


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- sequencing ------------------------------------------------------------------------

    async def lock_org(self, org_id: UUID) -> None:
        """Serialize sequencers of one organization (until the transaction ends)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"audit-ledger:{org_id}"},
        )

    async def snapshot_xmin(self) -> int:
        """Every transaction with a smaller id has ended (committed or not)."""
        value = await self.session.scalar(
            text("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
        )
        return int(value)

    async def head(self, org_id: UUID) -> AuditLedgerHead | None:
        stmt = (
            select(AuditLedgerHead)
            .where(AuditLedgerHead.org_id == org_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def save_head(
        self,
        org_id: UUID,
        *,
        tree_size: int,
        chain_hash: bytes | None,
        frontier: Sequence[bytes],
        horizon: int | None,
        now: datetime,
    ) -> None:
        values = {
            "tree_size": tree_size,
            "chain_hash": chain_hash,
            "frontier": list(frontier),
            "horizon": horizon,
            "updated_at": now,
        }
        await self.session.execute(
            pg_insert(AuditLedgerHead)
            .values(org_id=org_id, **values)
            .on_conflict_do_update(index_elements=["org_id"], set_=values)
        )

    async def unsequenced(
        self, org_id: UUID, horizon: int | None, *, after_seq: int | None, limit: int
    ) -> Sequence[RowMapping]:
        """Committed entries without a leaf, oldest ``seq`` first (after ``after_seq``): every
        entry whose transaction may have been running at the last run (``xact_id >=
        horizon``)."""
        e, leaf = AuditEvent, AuditLeaf
        has_leaf = select(leaf.event_id).where(leaf.org_id == e.org_id, leaf.event_id == e.id)
        stmt = select(*_ENTRY_COLUMNS).where(e.org_id == org_id, ~has_leaf.exists())
        if horizon is not None:
            stmt = stmt.where(e.xact_id >= horizon)
        if after_seq is not None:
            stmt = stmt.where(e.seq > after_seq)
        stmt = stmt.order_by(e.seq).limit(limit)
        return (await self.session.execute(stmt)).mappings().all()

    async def add_leaves(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(AuditLeaf), list(rows))

    async def add_nodes(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(AuditTreeNode), list(rows))

    # -- reading leaves and nodes --------------------------------------------------------------

    async def nodes(
        self, org_id: UUID, keys: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the tree nodes ``(level, node_index)`` asked for (one query
        on the primary key); nodes not stored are absent."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        n = AuditTreeNode
        stmt = select(n.level, n.node_index, n.hash).where(
            n.org_id == org_id, tuple_(n.level, n.node_index).in_(wanted)
        )
        rows = (await self.session.execute(stmt)).all()
        return {(int(level), int(index)): value for level, index, value in rows}

    async def node_count(self, org_id: UUID) -> int:
        stmt = select(func.count()).where(AuditTreeNode.org_id == org_id)
        return int(await self.session.scalar(stmt) or 0)

    async def leaf_hash_ranges(
        self, org_id: UUID, ranges: Iterable[tuple[int, int]]
    ) -> dict[int, bytes]:
        """The stored leaf hashes in the index ranges ``[start, end)`` (one query on the
        primary key), by leaf index."""
        wanted = list(dict.fromkeys(ranges))
        if not wanted:
            return {}
        leaf = AuditLeaf
        stmt = select(leaf.leaf_index, leaf.leaf_hash).where(
            leaf.org_id == org_id,
            or_(*(and_(leaf.leaf_index >= a, leaf.leaf_index < b) for a, b in wanted)),
        )
        rows = (await self.session.execute(stmt)).all()
        return {int(index): value for index, value in rows}

    async def leaf_for_event(self, org_id: UUID, event_id: UUID) -> AuditLeaf | None:
        stmt = select(AuditLeaf).where(AuditLeaf.org_id == org_id, AuditLeaf.event_id == event_id)
        return (await self.session.scalars(stmt)).one_or_none()

    async def leaf_hashes(self, org_id: UUID, end: int) -> AsyncIterator[bytes]:
        """Stored leaf hashes ``[0, end)`` in order, through a server-side cursor."""
        stmt = (
            select(AuditLeaf.leaf_hash)
            .where(AuditLeaf.org_id == org_id, AuditLeaf.leaf_index < end)
            .order_by(AuditLeaf.leaf_index)
            .execution_options(yield_per=5000)
        )
        result = await self.session.stream_scalars(stmt)
        # By partition: one switch into the driver per 5,000 rows, not per row.
        async for partition in result.partitions(5000):
            for value in partition:
                yield value

    async def leaves_with_entries(self, org_id: UUID) -> AsyncIterator[RowMapping]:
        """Every leaf in order, with its entry's columns (``entry_id`` null when the entry is
        gone), through a server-side cursor."""
        e, leaf = AuditEvent, AuditLeaf
        stmt = (
            select(
                leaf.leaf_index,
                leaf.event_id,
                leaf.seq.label("leaf_seq"),
                leaf.leaf_hash,
                leaf.chain_hash,
                e.id.label("entry_id"),
                *[c for c in _ENTRY_COLUMNS if c.name != "id"],
            )
            .select_from(leaf)
            .outerjoin(e, (e.org_id == leaf.org_id) & (e.id == leaf.event_id))
            .where(leaf.org_id == org_id)
            .order_by(leaf.leaf_index)
            .execution_options(yield_per=5000)
        )
        result = await self.session.stream(stmt)
        async for partition in result.mappings().partitions(5000):
            for row in partition:
                yield row

    async def entry_exists(self, org_id: UUID, event_id: UUID) -> bool:
        stmt = select(AuditEvent.id).where(AuditEvent.org_id == org_id, AuditEvent.id == event_id)
        return (await self.session.scalar(stmt)) is not None

    async def leaf_index_of_hash(self, org_id: UUID, leaf_hash: bytes) -> int | None:
        stmt = select(func.min(AuditLeaf.leaf_index)).where(
            AuditLeaf.org_id == org_id, AuditLeaf.leaf_hash == leaf_hash
        )
        value = await self.session.scalar(stmt)
        return None if value is None else int(value)

    async def first_unsequenced_before(
        self, org_id: UUID, horizon: int | None
    ) -> RowMapping | None:
        """The oldest entry without a leaf that the sequencer must already have seen: its
        transaction ended before the last run (``xact_id < horizon``, or no ``xact_id``)."""
        if horizon is None:
            return None
        e, leaf = AuditEvent, AuditLeaf
        has_leaf = select(leaf.event_id).where(leaf.org_id == e.org_id, leaf.event_id == e.id)
        stmt = (
            select(e.id, e.seq)
            .where(
                e.org_id == org_id,
                ~has_leaf.exists(),
                (e.xact_id < horizon) | e.xact_id.is_(None),
            )
            .order_by(e.seq)
            .limit(1)
        )
        return (await self.session.execute(stmt)).mappings().one_or_none()

    async def pending_count(self, org_id: UUID, horizon: int | None) -> int:
        """Entries the next sequencing run will take (without a leaf, at or past the
        horizon; every entry before the first run)."""
        e, leaf = AuditEvent, AuditLeaf
        has_leaf = select(leaf.event_id).where(leaf.org_id == e.org_id, leaf.event_id == e.id)
        stmt = select(func.count()).where(e.org_id == org_id, ~has_leaf.exists())
        if horizon is not None:
            stmt = stmt.where(e.xact_id >= horizon)
        return int(await self.session.scalar(stmt) or 0)

    async def leaf_after_seq(self, org_id: UUID, seq: int) -> int | None:
        """The first leaf whose entry came after ``seq`` (where an inserted entry sits)."""
        stmt = select(func.min(AuditLeaf.leaf_index)).where(
            AuditLeaf.org_id == org_id, AuditLeaf.seq > seq
        )
        value = await self.session.scalar(stmt)
        return None if value is None else int(value)

    # -- checkpoints -------------------------------------------------------------------------

    async def latest_checkpoint(self, org_id: UUID) -> AuditCheckpoint | None:
        stmt = (
            select(AuditCheckpoint)
            .where(AuditCheckpoint.org_id == org_id)
            .order_by(AuditCheckpoint.tree_size.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def checkpoint(self, org_id: UUID, tree_size: int) -> AuditCheckpoint | None:
        stmt = select(AuditCheckpoint).where(
            AuditCheckpoint.org_id == org_id, AuditCheckpoint.tree_size == tree_size
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def checkpoints(
        self, org_id: UUID, *, before_size: int | None, limit: int
    ) -> Sequence[AuditCheckpoint]:
        stmt = select(AuditCheckpoint).where(AuditCheckpoint.org_id == org_id)
        if before_size is not None:
            stmt = stmt.where(AuditCheckpoint.tree_size < before_size)
        stmt = stmt.order_by(AuditCheckpoint.tree_size.desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def add_checkpoint(self, checkpoint: AuditCheckpoint) -> bool:
        """Insert; ``False`` when a checkpoint of that size exists already."""
        values = {c.name: getattr(checkpoint, c.name) for c in AuditCheckpoint.__table__.columns}
        result = await self.session.execute(
            pg_insert(AuditCheckpoint)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["org_id", "tree_size"])
            .returning(AuditCheckpoint.tree_size)
        )
        return result.scalar_one_or_none() is not None

    async def ledger_orgs(self) -> Sequence[RowMapping]:
        """Across tenants (SECURITY DEFINER): organizations to sequence or checkpoint."""
        result = await self.session.execute(text("SELECT * FROM sc_audit_ledger_orgs()"))
        return result.mappings().all()

    # -- signing keys ------------------------------------------------------------------------

    async def lock_keys(self) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": _KEYS_LOCK}
        )

    async def active_key(self) -> AuditSigningKey | None:
        stmt = (
            select(AuditSigningKey)
            .where(AuditSigningKey.retired_at.is_(None))
            .order_by(AuditSigningKey.created_at.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def key(self, key_id: str) -> AuditSigningKey | None:
        return await self.session.get(AuditSigningKey, key_id)

    async def keys(self) -> Sequence[AuditSigningKey]:
        stmt = select(AuditSigningKey).order_by(AuditSigningKey.created_at)
        return (await self.session.scalars(stmt)).all()

    async def add_key(self, key: AuditSigningKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def retire_keys(self, now: datetime) -> None:
        await self.session.execute(
            update(AuditSigningKey)
            .where(AuditSigningKey.retired_at.is_(None))
            .values(retired_at=now)
        )
