"""Verifying an organization's ledger against its entries and its latest signed checkpoint.

One pass over the leaves in order, joined to their entries, through a server-side cursor: each
entry's leaf hash is recomputed (``encoding``), the hash chain and the Merkle frontier are
rebuilt as it goes (O(log n) memory), and the root at every checkpoint's size is compared with
the signed one. The first problem, by leaf index, is named with its class:

- ``edited``: the entry's recomputed leaf differs from the one sequenced (or the leaf table's
  chain no longer links: the leaf itself was rewritten);
- ``deleted``: a leaf whose entry is gone, with later entries still there;
- ``truncated``: the entries (or leaves) from some leaf to the end are gone, or the ledger
  holds fewer leaves than a signed checkpoint counted;
- ``reordered``: the entry at a leaf now has another ``seq`` than when sequenced, or its
  content is the one sequenced at another leaf;
- ``inserted``: an entry without a leaf that the sequencer must already have seen (its
  transaction ended before the sequencer's horizon); named with the leaf it precedes.

The stored tree nodes (``audit_tree_nodes``, what proofs are built from) are checked against
the tree of the stored leaf hashes as the pass goes (a batch of nodes per query): a node that
differs, is missing or is extra is named ``edited``, with the first leaf it covers, its level
and index, once every leaf before its end has checked out.

Entries newer than the horizon are ``pending`` (not yet sequenced), not problems. A rewrite
that keeps entries, leaves and chain consistent shows as a checkpoint whose root no longer
matches: the first such checkpoint bounds where the rewrite starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.audit.ledger import encoding, signing
from sprintconnect.audit.ledger.repository import NODE_LEVEL, LedgerRepository
from sprintconnect.kit.merkle import Frontier, Node, node_range

NODE_BATCH = 1000

TamperClass = Literal["edited", "deleted", "inserted", "reordered", "truncated"]


@dataclass
class Problem:
    kind: TamperClass
    leaf_index: int | None
    event_id: UUID | None
    detail: str


@dataclass
class CheckpointCheck:
    tree_size: int
    root_hash: bytes
    key_id: str
    issued_at: Any
    signature_valid: bool
    root_matches: bool


@dataclass
class Report:
    tree_size: int = 0
    pending: int = 0
    problem: Problem | None = None
    checkpoint: CheckpointCheck | None = None
    first_mismatching_checkpoint: int | None = None
    last_matching_checkpoint: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        cp = self.checkpoint
        return self.problem is None and (cp is None or (cp.signature_valid and cp.root_matches))


def _first(current: Problem | None, found: Problem) -> Problem:
    if current is None:
        return found
    if found.leaf_index is not None and (
        current.leaf_index is None or found.leaf_index < current.leaf_index
    ):
        return found
    return current


async def verify_org(session: AsyncSession, org_id: UUID) -> Report:
    """Recompute the organization's ledger in the caller's (tenant-bound) transaction."""
    repo = LedgerRepository(session)
    report = Report()
    head = await repo.head(org_id)
    checkpoints = sorted(
        await repo.checkpoints(org_id, before_size=None, limit=1_000_000),
        key=lambda c: c.tree_size,
    )
    roots = {c.tree_size: c.root_hash for c in checkpoints}
    latest = checkpoints[-1] if checkpoints else None

    frontier = Frontier()
    stored_tree = Frontier()  # of the stored leaf hashes: what the stored nodes must match
    nodes: list[tuple[Node, bytes]] = []
    chain: bytes | None = None
    missing_from: tuple[int, UUID] | None = None  # the first leaf whose entry is gone
    problem: Problem | None = None
    expected = 0
    async for row in repo.leaves_with_entries(org_id):
        index = row["leaf_index"]
        if index != expected and problem is None:
            problem = Problem(
                "deleted", expected, None, f"leaves {expected} to {index - 1} are gone"
            )
        expected = index + 1
        stored = row["leaf_hash"]
        chain = encoding.chain_hash(chain, stored)
        nodes += stored_tree.append_nodes(stored, NODE_LEVEL)
        if row["entry_id"] is None:
            if missing_from is None:
                missing_from = (index, row["event_id"])
            frontier.append(stored)
        else:
            if missing_from is not None:
                if problem is None:
                    problem = Problem(
                        "deleted",
                        missing_from[0],
                        missing_from[1],
                        "the entry of this leaf is gone",
                    )
                missing_from = None
            entry = {**row, "id": row["entry_id"]}
            recomputed = encoding.leaf_hash(entry)
            frontier.append(recomputed)
            if problem is None and (
                row["seq"] != row["leaf_seq"] or recomputed != stored or chain != row["chain_hash"]
            ):
                problem = await _check_entry(repo, org_id, row, recomputed, chain)
        if len(nodes) >= NODE_BATCH:
            problem = await _check_nodes(repo, org_id, nodes, problem)
            nodes = []
        if frontier.size in roots:
            if frontier.root() == roots[frontier.size]:
                report.last_matching_checkpoint = frontier.size
            elif report.first_mismatching_checkpoint is None:
                report.first_mismatching_checkpoint = frontier.size
    problem = await _check_nodes(repo, org_id, nodes, problem)
    if missing_from is not None and problem is None:
        problem = Problem(
            "truncated",
            missing_from[0],
            missing_from[1],
            f"the entries from leaf {missing_from[0]} to the end are gone",
        )
    size = frontier.size
    counted = max(head.tree_size if head else 0, latest.tree_size if latest else 0)
    if size < counted:
        problem = _first(
            problem,
            Problem("truncated", size, None, f"the ledger holds {size} leaves, {counted} were"),
        )
    inserted = await repo.first_unsequenced_before(org_id, head.horizon if head else None)
    if inserted is not None:
        at = await repo.leaf_after_seq(org_id, inserted["seq"])
        problem = _first(
            problem,
            Problem(
                "inserted",
                at if at is not None else size,
                inserted["id"],
                f"entry seq {inserted['seq']} appeared after its place was sequenced",
            ),
        )
    if problem is None:
        expected_nodes = sum(frontier.size >> level for level in range(NODE_LEVEL, 64))
        stored_nodes = await repo.node_count(org_id)
        if stored_nodes != expected_nodes:
            problem = Problem(
                "edited",
                None,
                None,
                f"the tree node table holds {stored_nodes} nodes; the tree of "
                f"{frontier.size} leaves has {expected_nodes}",
            )
    report.problem = problem
    report.tree_size = size
    report.pending = await repo.pending_count(org_id, head.horizon if head else None)
    if latest is not None:
        key = await repo.key(latest.key_id)
        body = signing.checkpoint_body(org_id, latest.tree_size, latest.root_hash, latest.issued_at)
        report.checkpoint = CheckpointCheck(
            tree_size=latest.tree_size,
            root_hash=latest.root_hash,
            key_id=latest.key_id,
            issued_at=latest.issued_at,
            signature_valid=key is not None
            and signing.verify_signature(key.public_key, body, latest.signature),
            root_matches=size >= latest.tree_size and report.first_mismatching_checkpoint is None,
        )
    return report


async def _check_nodes(
    repo: LedgerRepository,
    org_id: UUID,
    computed: list[tuple[Node, bytes]],
    problem: Problem | None,
) -> Problem | None:
    """Compare nodes computed from the stored leaves with the stored ones. Only nodes that
    end before the first problem so far count: a node over a broken leaf says nothing new."""
    limit = problem.leaf_index if problem is not None else None
    if problem is not None and limit is None:
        return problem
    wanted = [
        (node, value) for node, value in computed if limit is None or node_range(node)[1] <= limit
    ]
    if not wanted:
        return problem
    stored = await repo.nodes(org_id, (node for node, _ in wanted))
    for node, value in wanted:
        if stored.get(node) != value:
            start, end = node_range(node)
            state = "is missing" if node not in stored else "differs from the leaves' tree"
            found = Problem(
                "edited",
                start,
                None,
                f"the stored tree node of leaves {start} to {end - 1} (level {node[0]}, "
                f"index {node[1]}) {state}",
            )
            return _first(problem, found)
    return problem


async def _check_entry(
    repo: LedgerRepository,
    org_id: UUID,
    row: Any,
    recomputed: bytes,
    chain: bytes,
) -> Problem | None:
    index, event_id, stored = row["leaf_index"], row["entry_id"], row["leaf_hash"]
    if row["seq"] != row["leaf_seq"]:
        return Problem(
            "reordered",
            index,
            event_id,
            f"the entry was sequenced as seq {row['leaf_seq']} and is now seq {row['seq']}",
        )
    if recomputed != stored:
        elsewhere = await repo.leaf_index_of_hash(org_id, recomputed)
        if elsewhere is not None and elsewhere != index:
            return Problem(
                "reordered", index, event_id, f"the entry now holds leaf {elsewhere}'s content"
            )
        return Problem("edited", index, event_id, "the entry differs from what was sequenced")
    if chain != row["chain_hash"]:
        return Problem("edited", index, event_id, "the leaf table was rewritten here")
    return None


def report_json(report: Report) -> dict[str, Any]:
    """The report as the API and the CLI show it."""
    from sprintconnect.audit.ledger.service import b64

    cp = report.checkpoint
    problem = report.problem
    return {
        "status": "intact" if report.intact else "tampered",
        "tree_size": report.tree_size,
        "pending": report.pending,
        "problem": None
        if problem is None
        else {
            "class": problem.kind,
            "leaf_index": problem.leaf_index,
            "event_id": str(problem.event_id) if problem.event_id else None,
            "detail": problem.detail,
        },
        "checkpoint": None
        if cp is None
        else {
            "tree_size": cp.tree_size,
            "root_hash": b64(cp.root_hash),
            "key_id": cp.key_id,
            "issued_at": signing.format_time(cp.issued_at),
            "signature_valid": cp.signature_valid,
            "root_matches": cp.root_matches,
        },
        "first_mismatching_checkpoint": report.first_mismatching_checkpoint,
        "last_matching_checkpoint": report.last_matching_checkpoint,
    }
