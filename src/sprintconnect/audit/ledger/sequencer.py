"""Sequencing: committed audit entries become leaves, in order, exactly once.

``audit.record`` stays a plain INSERT; each entry carries its transaction's id (``xact_id``,
a column default). A run, under the organization's advisory lock:

1. reads the snapshot's ``xmin``: every transaction with a smaller id has ended;
2. takes the entries without a leaf whose ``xact_id`` is at least the previous run's horizon
   (on the first run: all of them), oldest ``seq`` first, and appends them as leaves;
3. stores that ``xmin`` as the new horizon.

An entry whose transaction was still running (invisible) at one run has ``xact_id`` at least
that run's ``xmin``, so the next run looks at it again: an entry that commits late, with a
``seq`` lower than entries already sequenced, is sequenced by the next run after its commit
(after them), never skipped. Entries of transactions that ended before the horizon were all
visible to the run that set it, so none is left behind. Leaf order is therefore the order of
sequencing: ``seq`` order except for such late commits.

With the leaves, a run writes the tree nodes they complete (``audit_tree_nodes``: every
perfect aligned subtree of 256 leaves and more), in the same transaction. The head's frontier
already holds the hashes of the partial tile (and of every pending left sibling above it), so
nothing is read back: appending to it yields each completed subtree (``append_nodes``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.audit.ledger import encoding
from sprintconnect.audit.ledger.repository import NODE_LEVEL, LedgerRepository
from sprintconnect.kit.merkle import Frontier

BATCH = 2000


async def sequence(session: AsyncSession, org_id: UUID, now: datetime) -> int:
    """Append the organization's committed, unsequenced entries as leaves, in the caller's
    (tenant-bound) transaction; the number appended."""
    repo = LedgerRepository(session)
    await repo.lock_org(org_id)
    new_horizon = await repo.snapshot_xmin()
    head = await repo.head(org_id)
    if head is None:
        size, chain, horizon, frontier = 0, None, None, Frontier()
    else:
        size, chain, horizon = head.tree_size, head.chain_hash, head.horizon
        frontier = Frontier.from_hashes(size, head.frontier)
    added = 0
    after: int | None = None
    while True:
        # Within a run, batches go on by seq: an entry that becomes visible meanwhile with a
        # lower seq belongs to a transaction at or past ``new_horizon``; the next run has it.
        rows = await repo.unsequenced(org_id, horizon, after_seq=after, limit=BATCH)
        leaves: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for row in rows:
            leaf = encoding.leaf_hash(dict(row))
            chain = encoding.chain_hash(chain, leaf)
            for (level, index), value in frontier.append_nodes(leaf, NODE_LEVEL):
                nodes.append({"org_id": org_id, "level": level, "node_index": index, "hash": value})
            leaves.append(
                {
                    "org_id": org_id,
                    "leaf_index": size,
                    "event_id": row["id"],
                    "seq": row["seq"],
                    "leaf_hash": leaf,
                    "chain_hash": chain,
                    "sequenced_at": now,
                }
            )
            size += 1
        await repo.add_leaves(leaves)
        await repo.add_nodes(nodes)
        added += len(rows)
        if rows:
            after = rows[-1]["seq"]
        if len(rows) < BATCH:
            break
    if head is None or added or head.horizon != new_horizon:
        await repo.save_head(
            org_id,
            tree_size=size,
            chain_hash=chain,
            frontier=frontier.hashes,
            horizon=max(new_horizon, horizon or 0),
            now=now,
        )
    return added
