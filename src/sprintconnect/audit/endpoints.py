"""HTTP routes for reading the audit log: list, one entry, export; and the platform's stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from sprintconnect import audit
from sprintconnect.audit.export import EXPORT_FORMAT, EXPORT_VERSION, MEDIA_TYPES, ExportWriter
from sprintconnect.audit.export import batched as batched_chunks
from sprintconnect.audit.query import ACTION_PATTERN, AuditFilters, audit_filters, parse_action
from sprintconnect.audit.reading import AuditEventNotFound, AuditReader, platform_page
from sprintconnect.audit.schemas import AuditEntry, ExportFormat, PlatformAuditEntry
from sprintconnect.audit.streaming import export_chunks
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidCursor,
    RateLimited,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.auth import Authenticator, SuperAdminRequired
from sprintconnect.identity.deps import SuperAdminRead
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from sprintconnect.kit.responses import AUTHENTICATED

router = APIRouter(prefix="/api/v1/audit", tags=["Audit log"], responses=AUTHENTICATED)

AuditRead = Annotated[Principal, Depends(Authenticator("audit:read"))]
Filters = Annotated[AuditFilters, Depends(audit_filters)]

_FILTERS_TEXT = (
    "Filters (all optional, combined with AND): `actor_type`, `actor_id` (a user's id also "
    'matches what they did through their API keys: "all activity of this user"), `action` '
    "(an exact tag, or a prefix ending in `:` or `*`), `target_type`, `target_id`, `outcome` "
    "(`failure`: refused authentications and failed actions), `from` and `to` (ISO 8601 with "
    "an offset; `from` inclusive, `to` exclusive) and `q` (3 to 200 characters: an entry, "
    "request, target or actor id, exactly, or words in the details: whole words, any case, "
    'web-search syntax with `"a phrase"`, `or` and `-word`).'
)


@router.get(
    "/events",
    summary="List audit entries, newest first",
    description="The organization's audit log, newest first (by time, then append order), "
    "one page at a time: pass `next_cursor` back as `cursor`, with the same filters. "
    + _FILTERS_TEXT
    + " Needs `audit:read`.",
    responses=problem_responses(InvalidCursor),
)
async def list_events(
    principal: AuditRead,
    session: DbSession,
    filters: Filters,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[AuditEntry]:
    return await AuditReader(session, principal.org_id).page(filters, cursor=cursor, limit=limit)


@router.get(
    "/events/export",
    summary="Export audit entries",
    description="Streams every entry in the range, oldest first, without a page size: "
    "`format=ndjson` (the default; a header line, one line per entry with every stored "
    "column and its Merkle leaf index, then an evidence line with the latest signed "
    "checkpoint and the proofs covering the exported leaves, for "
    "`sprintconnect audit verify-export FILE`), `json` (one object with the same three "
    "parts), or `csv` (entries only, no evidence). The answer names a file "
    "(`Content-Disposition`). The export reads one snapshot of the log and is itself "
    "audited (`org:audit:exported`). " + _FILTERS_TEXT + " Needs `audit:read`.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export, streamed.",
            "content": {
                "application/x-ndjson": {
                    "example": '{"type":"header","format":"sprintconnect-audit-export",...}\n'
                    '{"type":"entry","id":"...","seq":1042,...}\n'
                    '{"type":"evidence",...}\n'
                },
                "application/json": {"example": {"header": {}, "entries": [], "evidence": {}}},
                "text/csv": {"example": "id,seq,occurred_at,action,outcome,...\n"},
            },
        }
    },
)
async def export_events(
    principal: AuditRead,
    session: DbSession,
    runtime: RuntimeDep,
    filters: Filters,
    fmt: Annotated[
        ExportFormat,
        Query(alias="format", description="`ndjson` (verifiable), `json` or `csv`."),
    ] = "ndjson",
) -> StreamingResponse:
    org_id = principal.org_id
    reader = AuditReader(session, org_id)
    keys = await reader.user_keys(filters)
    now: datetime = runtime.clock.now()
    header: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "org_id": str(org_id),
        "exported_at": now.isoformat(timespec="microseconds"),
        "order": "oldest_first",
        "filters": filters.described(),
    }
    # In the request's transaction: committed before the first byte of the export is sent.
    await audit.record(
        session,
        audit.AuditTag.AUDIT_EXPORTED,
        org_id=org_id,
        actor=principal.actor,
        target=audit.Target("audit_log"),
        details={"format": fmt, "filters": filters.described()},
    )
    writer = ExportWriter(fmt)
    chunks = export_chunks(runtime.db.sessionmaker, org_id, filters, keys, writer, header)
    name = f"audit-{org_id}-{now.strftime('%Y%m%dT%H%M%SZ')}.{fmt}"
    return StreamingResponse(
        batched_chunks(chunks),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/events/{event_id}",
    summary="One audit entry",
    description="An entry of the organization's audit log by id; another organization's "
    "entry is not found. Needs `audit:read`.",
    responses=problem_responses(AuditEventNotFound),
)
async def get_event(event_id: UUID, principal: AuditRead, session: DbSession) -> AuditEntry:
    return await AuditReader(session, principal.org_id).get(event_id)


platform_router = APIRouter(
    prefix="/api/v1/platform/audit",
    tags=["Platform: audit"],
    responses=problem_responses(
        AuthenticationRequired, InsufficientScope, SuperAdminRequired, RateLimited, ValidationFailed
    ),
)


@platform_router.get(
    "/events",
    summary="The platform's audit stream, newest first",
    description="What platform operators did to the platform itself (job replays and "
    "discards, super-admin grants, unattributable authentication failures), across every "
    "organization; for platform operators (super admins) only. `action` is an exact tag or "
    "a prefix ending in `:` or `*`. Pass `next_cursor` back as `cursor`.",
    responses=problem_responses(InvalidCursor),
)
async def list_platform_events(
    principal: SuperAdminRead,
    session: DbSession,
    action: Annotated[
        str | None,
        Query(max_length=128, pattern=ACTION_PATTERN, examples=["platform:job:"]),
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[PlatformAuditEntry]:
    return await platform_page(
        session, action=parse_action(action) if action else None, cursor=cursor, limit=limit
    )
