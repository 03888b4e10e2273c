"""The audit ledger's operations: checkpoints, proofs, export evidence. Services never commit.

Proofs, roots and export evidence are hashes of tree ranges (``kit.merkle``'s
``inclusion_ranges``, ``consistency_ranges``, ``perfect_ranges``), each computed from the
stored nodes of 256 leaves and more plus a few edge leaves (``range_hashes``): O(log n) reads
per request, whatever the tree's size.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.audit.ledger import signing
from sprintconnect.audit.ledger.repository import NODE_LEVEL, LedgerRepository
from sprintconnect.errors import Conflict, NotFound, ValidationFailed
from sprintconnect.jobs import outbox
from sprintconnect.kit import merkle
from sprintconnect.kit.merkle import Frontier
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.models import AuditCheckpoint

log = structlog.get_logger(__name__)

CHECKPOINT_TOPIC = "audit.checkpoint"
KEYS_PATH = "/.well-known/sprintconnect-audit-keys"
EVIDENCE_VERSION = 1


class CheckpointNotFound(NotFound):
    slug = "audit-checkpoint-not-found"
    title = "No such audit checkpoint"


class EntryNotSequenced(Conflict):
    slug = "audit-entry-not-sequenced"
    title = "The audit entry is not in the ledger yet"


class TreeSizeInvalid(ValidationFailed):
    slug = "audit-tree-size-invalid"
    title = "The tree size is not valid for this ledger"
    default_loc = ("query", "tree_size")


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def note_of(checkpoint: AuditCheckpoint) -> str:
    body = signing.checkpoint_body(
        checkpoint.org_id, checkpoint.tree_size, checkpoint.root_hash, checkpoint.issued_at
    )
    return signing.signed_note(body, checkpoint.key_id, checkpoint.signature)


@dataclass(frozen=True)
class Published:
    checkpoint: AuditCheckpoint
    created: bool


async def tree_size(session: AsyncSession, org_id: UUID) -> int:
    head = await LedgerRepository(session).head(org_id)
    return head.tree_size if head else 0


async def publish_checkpoint(
    session: AsyncSession, keyring: KeyRing, org_id: UUID, now: datetime
) -> Published | None:
    """Sign the organization's current tree unless the latest checkpoint already covers it;
    ``None`` while the tree is empty. A new checkpoint is also an ``audit.checkpoint`` event."""
    repo = LedgerRepository(session)
    await repo.lock_org(org_id)
    head = await repo.head(org_id)
    latest = await repo.latest_checkpoint(org_id)
    if head is None or head.tree_size == 0:
        return Published(latest, False) if latest else None
    if latest is not None and latest.tree_size >= head.tree_size:
        return Published(latest, False)
    root = Frontier.from_hashes(head.tree_size, head.frontier).root()
    signer = await signing.active_signer(session, keyring, now)
    body = signing.checkpoint_body(org_id, head.tree_size, root, now)
    checkpoint = AuditCheckpoint(
        org_id=org_id,
        tree_size=head.tree_size,
        root_hash=root,
        issued_at=now,
        key_id=signer.key_id,
        signature=signer.sign(body),
    )
    await repo.add_checkpoint(checkpoint)
    await outbox.emit(
        session,
        org_id=org_id,
        topic=CHECKPOINT_TOPIC,
        payload={
            "org_id": str(org_id),
            "tree_size": head.tree_size,
            "root_hash": b64(root),
            "key_id": signer.key_id,
            "issued_at": signing.format_time(now),
        },
        key=f"{CHECKPOINT_TOPIC}:{head.tree_size}",
    )
    return Published(checkpoint, True)


async def latest_checkpoint(session: AsyncSession, org_id: UUID) -> AuditCheckpoint:
    found = await LedgerRepository(session).latest_checkpoint(org_id)
    if found is None:
        raise CheckpointNotFound("This organization's audit log has no checkpoint yet.")
    return found


async def range_hashes(
    repo: LedgerRepository, org_id: UUID, ranges: Sequence[merkle.Range]
) -> list[bytes]:
    """The RFC 6962 hashes of the tree ranges ``ranges`` (each ``[start, end)`` a subtree of
    some tree: the ranges of proofs, ``[0, n)``, perfect aligned subtrees), in order.

    Perfect aligned subtrees of 256 leaves and more come from ``audit_tree_nodes``, the rest
    (fewer than 256 leaves at each range's right edge) from ``audit_leaves``: two indexed
    queries, O(log n) nodes and O(256 log n) leaves at most, whatever the tree's size."""
    parts = [merkle.tiled_parts(start, end, NODE_LEVEL) for start, end in ranges]
    nodes = await repo.nodes(org_id, (node for wanted, _ in parts for node in wanted))
    leaves = await repo.leaf_hash_ranges(org_id, (edge for _, edge in parts if edge))
    hashes: list[bytes] = []
    for wanted, edge in parts:
        missing = [node for node in wanted if node not in nodes]
        if missing:
            level, index = missing[0]
            raise merkle.ProofError(f"the ledger holds no tree node {index} at level {level}")
        edge_leaves: list[bytes] = []
        if edge is not None:
            edge_leaves = [leaves[i] for i in range(*edge) if i in leaves]
            if len(edge_leaves) != edge[1] - edge[0]:
                raise merkle.ProofError(f"the ledger misses leaves in [{edge[0]}, {edge[1]})")
        hashes.append(merkle.tiled_root([nodes[node] for node in wanted], edge_leaves))
    return hashes


async def range_hash(session: AsyncSession, org_id: UUID, start: int, end: int) -> bytes:
    """The RFC 6962 hash of leaves ``[start, end)`` (a subtree of some tree: see
    ``range_hashes``); ``merkle.ProofError`` for another range or leaves not stored."""
    return (await range_hashes(LedgerRepository(session), org_id, [(start, end)]))[0]


async def _size_or_latest(repo: LedgerRepository, org_id: UUID, size: int | None) -> int:
    head = await repo.head(org_id)
    current = head.tree_size if head else 0
    if size is None:
        latest = await repo.latest_checkpoint(org_id)
        if latest is None:
            raise CheckpointNotFound("This organization's audit log has no checkpoint yet.")
        return latest.tree_size
    if not 1 <= size <= current:
        raise TreeSizeInvalid(f"The ledger's tree has sizes 1 to {current}; {size} is not one.")
    return size


async def inclusion(
    session: AsyncSession, org_id: UUID, event_id: UUID, size: int | None
) -> dict[str, Any]:
    """The inclusion proof of an entry in the tree of ``size`` (default: the latest
    checkpoint's)."""
    from sprintconnect.audit.reading import AuditEventNotFound

    repo = LedgerRepository(session)
    leaf = await repo.leaf_for_event(org_id, event_id)
    if leaf is None:
        if await repo.entry_exists(org_id, event_id):
            raise EntryNotSequenced(
                "The entry is not sequenced yet; it will be within a minute. Try again then."
            )
        raise AuditEventNotFound(f"No audit entry has the id {event_id} in this organization.")
    size = await _size_or_latest(repo, org_id, size)
    if leaf.leaf_index >= size:
        raise TreeSizeInvalid(
            f"The entry is leaf {leaf.leaf_index}; a tree of {size} leaves does not hold it. "
            "Ask for a later checkpoint's size."
        )
    ranges = merkle.inclusion_ranges(leaf.leaf_index, size)
    *proof, root = await range_hashes(repo, org_id, [*ranges, (0, size)])
    checkpoint = await repo.checkpoint(org_id, size)
    return {
        "event_id": event_id,
        "leaf_index": leaf.leaf_index,
        "tree_size": size,
        "leaf_hash": b64(leaf.leaf_hash),
        "root_hash": b64(root),
        "proof": [b64(h) for h in proof],
        "checkpoint": checkpoint,
    }


async def consistency(
    session: AsyncSession, org_id: UUID, first: int, second: int
) -> dict[str, Any]:
    repo = LedgerRepository(session)
    head = await repo.head(org_id)
    current = head.tree_size if head else 0
    if not 1 <= second <= current:
        raise TreeSizeInvalid(
            f"The ledger's tree has sizes 1 to {current}; {second} is not one.",
            loc=("query", "second"),
        )
    if not 1 <= first <= second:
        raise TreeSizeInvalid(
            f"first must be between 1 and second ({second}).", loc=("query", "first")
        )
    ranges = merkle.consistency_ranges(first, second)
    *proof, first_root, second_root = await range_hashes(
        repo, org_id, [*ranges, (0, first), (0, second)]
    )
    return {
        "first": first,
        "second": second,
        "first_root_hash": b64(first_root),
        "second_root_hash": b64(second_root),
        "proof": [b64(h) for h in proof],
        "first_checkpoint": await repo.checkpoint(org_id, first),
        "second_checkpoint": await repo.checkpoint(org_id, second),
    }


async def evidence_for_range(
    session: AsyncSession, org_id: UUID, first_leaf: int, last_leaf: int
) -> dict[str, Any]:
    """What an offline verifier needs to tie exported leaves ``first_leaf..last_leaf`` to the
    latest signed checkpoint (``audit.ledger.offline`` checks it; decision 0007):

    - ``checkpoint``: its signed note, key id, size, root, time, and the public key (JWK);
    - ``range``: the leaves covered, ``first_leaf`` to ``min(last_leaf, size - 1)``;
    - ``left_frontier``: the hashes of the perfect subtrees left of ``first_leaf`` (one per
      set bit of ``first_leaf``, largest first): with the exported leaves appended, they give
      the root of the tree of ``last + 1`` leaves;
    - ``consistency_proof``: from that tree to the checkpoint's.

    Entries after the checkpoint are not covered (``range`` says which are). ``checkpoint`` is
    null when there is none yet or the range lies beyond it.
    """
    repo = LedgerRepository(session)
    latest = await repo.latest_checkpoint(org_id)
    evidence: dict[str, Any] = {
        "version": EVIDENCE_VERSION,
        "org_id": str(org_id),
        "keys_url": KEYS_PATH,
        "checkpoint": None,
        "range": None,
        "left_frontier": [],
        "consistency_proof": [],
    }
    if latest is None or not 0 <= first_leaf <= last_leaf or first_leaf >= latest.tree_size:
        return evidence
    last = min(last_leaf, latest.tree_size - 1)
    size = latest.tree_size
    left_ranges = merkle.perfect_ranges(first_leaf)
    hashes = await range_hashes(
        repo, org_id, [*left_ranges, *merkle.consistency_ranges(last + 1, size)]
    )
    left, proof = hashes[: len(left_ranges)], hashes[len(left_ranges) :]
    key = await repo.key(latest.key_id)
    evidence.update(
        checkpoint={
            "note": note_of(latest),
            "key_id": latest.key_id,
            "tree_size": size,
            "root_hash": b64(latest.root_hash),
            "issued_at": signing.format_time(latest.issued_at),
            "public_key": signing.jwk(key) if key else None,
        },
        range={"first_leaf": first_leaf, "last_leaf": last},
        left_frontier=[b64(h) for h in left],
        consistency_proof=[b64(h) for h in proof],
    )
    return evidence


async def maintain(
    sessionmaker: async_sessionmaker[AsyncSession],
    keyring: KeyRing,
    *,
    checkpoint_seconds: int,
    now: datetime,
) -> dict[str, int]:
    """The periodic run: sequence every organization with new entries, and sign the trees
    that grew and whose last checkpoint is ``checkpoint_seconds`` old (or absent). Each
    organization in a transaction of its own; one failing does not stop the others."""
    from sprintconnect.audit.ledger.sequencer import sequence
    from sprintconnect.db.tenancy import bind_tenant

    async with sessionmaker() as session, session.begin():
        orgs = await LedgerRepository(session).ledger_orgs()
    done = {"organizations": 0, "sequenced": 0, "checkpoints": 0, "failed": 0}
    due_before = now - timedelta(seconds=checkpoint_seconds)
    for org in orgs:
        due = org["checkpoint_at"] is None or org["checkpoint_at"] <= due_before
        if not org["to_sequence"] and not (
            due and org["tree_size"] > (org["checkpoint_size"] or 0)
        ):
            continue
        try:
            async with sessionmaker() as session, session.begin():
                await bind_tenant(session, org["org_id"])
                done["sequenced"] += await sequence(session, org["org_id"], now)
                if due:
                    published = await publish_checkpoint(session, keyring, org["org_id"], now)
                    done["checkpoints"] += bool(published and published.created)
            done["organizations"] += 1
        except Exception:  # one organization's failure is logged; the others go on
            log.exception("audit_ledger.maintain_failed", org_id=str(org["org_id"]))
            done["failed"] += 1
    return done
