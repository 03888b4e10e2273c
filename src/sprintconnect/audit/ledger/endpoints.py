"""HTTP routes of the audit ledger: checkpoints, proofs, verification, the public keys."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from sprintconnect.audit.ledger import service
from sprintconnect.audit.ledger.repository import LedgerRepository
from sprintconnect.audit.ledger.schemas import (
    Checkpoint,
    CheckpointPage,
    ConsistencyProof,
    InclusionProof,
    SigningKeySet,
    VerifyReport,
)
from sprintconnect.audit.ledger.sequencer import sequence
from sprintconnect.audit.ledger.signing import jwk
from sprintconnect.audit.ledger.verify import report_json, verify_org
from sprintconnect.audit.reading import AuditEventNotFound
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.identity.auth import Authenticator
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.pagination import (
    DEFAULT_LIMIT,
    CursorParam,
    LimitParam,
    decode_key,
    encode_key,
)
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.models import AuditCheckpoint

router = APIRouter(prefix="/api/v1/audit", tags=["Audit ledger"], responses=AUTHENTICATED)
keys_router = APIRouter(tags=["Audit ledger"])

AuditRead = Annotated[Principal, Depends(Authenticator("audit:read"))]
AuditManage = Annotated[Principal, Depends(Authenticator("audit:manage"))]
TREE_SIZE_MAX = 2**62


def checkpoint_json(checkpoint: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(
        tree_size=checkpoint.tree_size,
        root_hash=service.b64(checkpoint.root_hash),
        issued_at=checkpoint.issued_at,
        key_id=checkpoint.key_id,
        signature=service.b64(checkpoint.signature),
        note=service.note_of(checkpoint),
    )


def _optional(checkpoint: AuditCheckpoint | None) -> Checkpoint | None:
    return checkpoint_json(checkpoint) if checkpoint else None


@router.get(
    "/checkpoints/latest",
    summary="The latest signed checkpoint",
    description="The organization's newest signed statement of its audit tree: size, Merkle "
    "root, time, key id and Ed25519 signature, with the signed note. Checkpoints are "
    "published every `SPRINTCONNECT_AUDIT_CHECKPOINT_SECONDS` when the log grew, and on "
    "demand. Needs `audit:read`.",
    responses=problem_responses(service.CheckpointNotFound),
)
async def latest_checkpoint(principal: AuditRead, session: DbSession) -> Checkpoint:
    return checkpoint_json(await service.latest_checkpoint(session, principal.org_id))


@router.get(
    "/checkpoints",
    summary="List signed checkpoints, newest first",
    description="Every checkpoint of the organization's audit tree, largest tree first, one "
    "page at a time (`next_cursor` back as `cursor`). Needs `audit:read`.",
    responses=problem_responses(InvalidCursor),
)
async def list_checkpoints(
    principal: AuditRead,
    session: DbSession,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> CheckpointPage:
    before: int | None = None
    if cursor is not None:
        (value,) = decode_key(cursor, 1)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidCursor()
        if not 1 <= value <= TREE_SIZE_MAX:
            raise InvalidCursor()
        before = value
    rows = await LedgerRepository(session).checkpoints(
        principal.org_id, before_size=before, limit=limit + 1
    )
    page = list(rows[:limit])
    next_cursor = encode_key(page[-1].tree_size) if len(rows) > limit and page else None
    return CheckpointPage(items=[checkpoint_json(c) for c in page], next_cursor=next_cursor)


@router.post(
    "/checkpoints",
    summary="Publish a checkpoint now",
    description="Sequences the entries written so far and signs the tree: `201` with the new "
    "checkpoint, or `200` with the latest one when the tree has not grown since. A new "
    "checkpoint is also an `audit.checkpoint` event (webhooks). Needs `audit:manage` "
    "(admins).",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {"model": Checkpoint, "description": "The tree did not grow."},
        **problem_responses(service.CheckpointNotFound),
    },
)
async def publish_checkpoint(
    principal: AuditManage, session: DbSession, runtime: RuntimeDep, response: Response
) -> Checkpoint:
    now = runtime.clock.now()
    await sequence(session, principal.org_id, now)
    published = await service.publish_checkpoint(session, runtime.keyring, principal.org_id, now)
    if published is None:
        raise service.CheckpointNotFound("The audit log is empty: there is nothing to sign.")
    if not published.created:
        response.status_code = status.HTTP_200_OK
    return checkpoint_json(published.checkpoint)


@router.get(
    "/events/{event_id}/inclusion-proof",
    summary="Prove an entry is in the signed tree",
    description="The audit path (RFC 9162 section 2.1.3) of the entry's leaf in the tree of "
    "`tree_size` leaves (default: the latest checkpoint's), with the leaf hash and the root "
    "it leads to. Recompute the leaf from the entry's canonical encoding (user guide) to "
    "check it yourself. An entry written in the last minute may not be sequenced yet (409). "
    "Needs `audit:read`.",
    responses=problem_responses(
        AuditEventNotFound,
        service.CheckpointNotFound,
        service.EntryNotSequenced,
        service.TreeSizeInvalid,
    ),
)
async def inclusion_proof(
    event_id: UUID,
    principal: AuditRead,
    session: DbSession,
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=TREE_SIZE_MAX, description="A tree size; default: the latest checkpoint's."),
    ] = None,
) -> InclusionProof:
    found: dict[str, Any] = await service.inclusion(session, principal.org_id, event_id, tree_size)
    found["checkpoint"] = _optional(found["checkpoint"])
    return InclusionProof(**found)


@router.get(
    "/consistency-proof",
    summary="Prove the log only grew between two tree sizes",
    description="The consistency proof (RFC 9162 section 2.1.4) that the tree of `second` "
    "leaves extends the tree of `first` (typically two checkpoints' sizes), with both roots. "
    "Needs `audit:read`.",
    responses=problem_responses(service.TreeSizeInvalid),
)
async def consistency_proof(
    principal: AuditRead,
    session: DbSession,
    first: Annotated[int, Query(ge=1, le=TREE_SIZE_MAX, description="The older tree size.")],
    second: Annotated[int, Query(ge=1, le=TREE_SIZE_MAX, description="The newer tree size.")],
) -> ConsistencyProof:
    found = await service.consistency(session, principal.org_id, first, second)
    found["first_checkpoint"] = _optional(found["first_checkpoint"])
    found["second_checkpoint"] = _optional(found["second_checkpoint"])
    return ConsistencyProof(**found)


@router.post(
    "/verify",
    summary="Verify the whole audit log",
    description="Recomputes every entry's leaf, the hash chain and the Merkle tree from the "
    "stored entries and compares them with the ledger and the latest signed checkpoint. "
    "Answers `intact`, or `tampered` with the first problem: the entry (id, leaf index) and "
    "its class (`edited`, `deleted`, `inserted`, `reordered`, `truncated`), and whether the "
    "checkpoint's signature verifies and its root still matches. Entries not yet sequenced "
    "are counted as `pending`. Reads the log once, in leaf order. Needs `audit:manage` "
    "(admins).",
    status_code=status.HTTP_200_OK,
)
async def verify(principal: AuditManage, session: DbSession) -> VerifyReport:
    report = await verify_org(session, principal.org_id)
    return VerifyReport.model_validate(report_json(report))


@keys_router.get(
    "/.well-known/sprintconnect-audit-keys",
    summary="The audit checkpoint signing keys",
    description="Every Ed25519 public key that has signed audit checkpoints, as a JSON Web Key "
    "Set (OKP keys), with when each was created and retired; retired keys stay listed so "
    "older checkpoints still verify. No authentication.",
)
async def signing_keys(session: DbSession) -> SigningKeySet:
    keys = await LedgerRepository(session).keys()
    return SigningKeySet.model_validate({"keys": [jwk(k) for k in keys]})
