"""Running one discovery: claim it, talk to the server, record a snapshot or a failure.

Safe to run more than once for the same discovery (jobs are at-least-once): a finished
discovery is skipped, and the snapshot and the final status are written in one transaction
that holds the discovery row's lock, so a repeated run cannot leave two snapshots.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.catalog.repository import CatalogRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.collect import Collected, Limits, collect
from sprintconnect.discovery.listing import ListingGuard
from sprintconnect.discovery.progress import PhaseWriter
from sprintconnect.discovery.repository import ACTIVE, DiscoveryRepository, SnapshotRepository
from sprintconnect.discovery.service import snapshot_meta, to_item
from sprintconnect.discovery.snapshot import content_digest, diff, is_empty, server_meta
from sprintconnect.egress import policy_from_settings
from sprintconnect.identity.principal import Actor
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.outbox import emit
from sprintconnect.kit.redact import redact_credentials
from sprintconnect.mcp_server import credentials
from sprintconnect.mcp_server.connector import open_session
from sprintconnect.mcp_server.failures import GUIDANCE, classify
from sprintconnect.mcp_server.repository import McpServerRepository
from sprintconnect.models import CapabilitySnapshot, McpServer
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret import SecretNotFound

log = structlog.get_logger(__name__)


async def run_discovery(services: TaskServices, *, discovery_id: UUID, org_id: UUID) -> str:
    """Run (or resume) a discovery; the outcome: skipped, succeeded, failed or timed_out."""
    runtime = services.runtime
    settings = runtime.settings
    sessionmaker = runtime.db.sessionmaker
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        discovery = await DiscoveryRepository(session).lock(org_id, discovery_id)
        if discovery is None or discovery.status not in ACTIVE:
            return "skipped"
        server = await McpServerRepository(session).get(org_id, discovery.server_id)
        org = await OrganizationRepository(session).get(org_id)
        if server is None or org is None:
            return "skipped"
        discovery.status, discovery.phase = "in_progress", "connecting"
        discovery.started_at = discovery.started_at or runtime.clock.now()
        discovery.attempts += 1
        session.expunge(server)
        allowlist = list(org.egress_allowlist)
    log.info("discovery.started", discovery_id=str(discovery_id), server_id=str(server.id))

    async def write_phase(phase: str) -> None:
        async with sessionmaker() as phase_session, phase_session.begin():
            await bind_tenant(phase_session, org_id)
            await DiscoveryRepository(phase_session).set_phase(discovery_id, phase)

    on_phase = PhaseWriter(write_phase)

    limits = Limits(
        max_items=settings.discovery_max_items,
        max_item_bytes=settings.discovery_max_item_bytes,
        max_pages=settings.discovery_max_pages,
    )
    policy = policy_from_settings(settings, allowlist or None, org_id=org_id)
    statuses: list[int] = []
    guard = ListingGuard()
    try:
        secret = None
        if server.auth_type != "none":
            secret = (
                await services.secrets.get(org_id, credentials.secret_path(server.id))
            ).reveal()
        async with (
            asyncio.timeout(settings.discovery_timeout_seconds),
            open_session(
                server,
                secret,
                policy,
                network=services.network,
                cache=services.tokens,
                timeout_seconds=min(
                    settings.mcp_connect_timeout_seconds, settings.discovery_timeout_seconds
                ),
                statuses=statuses,
                wrap_streams=guard.wrap,
            ) as mcp,
        ):
            collected = await collect(mcp, limits, on_phase, guard)
    except SecretNotFound:
        await on_phase.flush()
        return await _fail(
            services, org_id, discovery_id, "auth_rejected", "the stored credentials are missing"
        )
    except Exception as exc:  # a group of failures is an ExceptionGroup; cancellation propagates
        failure = classify(exc, statuses=statuses, client_certificate=server.auth_type == "mtls")
        if failure.reason == "auth_rejected":
            services.tokens.forget_server(server.id)  # the next attempt fetches a new token
        log.info("discovery.error", error=redact_credentials(repr(exc))[:500])
        await on_phase.flush()
        return await _fail(services, org_id, discovery_id, failure.reason, failure.message)
    except BaseException:  # cancelled (the job's own deadline, a worker stopping)
        await on_phase.close()
        raise
    await on_phase.flush()
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        return await _record(session, services, org_id, discovery_id, collected)


async def _record(
    session: AsyncSession,
    services: TaskServices,
    org_id: UUID,
    discovery_id: UUID,
    collected: Collected,
) -> str:
    now = services.runtime.clock.now()
    snapshots = SnapshotRepository(session)
    discovery = await DiscoveryRepository(session).lock(org_id, discovery_id)
    if discovery is None or discovery.status not in ACTIVE:
        return "skipped"  # another run of this job finished it first
    server = await snapshots.lock_server(org_id, discovery.server_id)
    assert server is not None
    latest = await snapshots.latest(org_id, server.id)
    digest = content_digest(
        collected.items, collected.server_info, collected.capabilities, collected.invalid
    )
    if latest is not None and latest.digest == digest and not discovery.force_refresh:
        await snapshots.confirm(latest.id, now)
        outcome, version = "unchanged", latest.version
    else:
        version = (latest.version + 1) if latest else 1
        change = None
        if latest is not None:
            before = [to_item(i) for i in await snapshots.items(org_id, latest.id)]
            change = diff(
                before,
                collected.items,
                before_meta=snapshot_meta(latest),
                after_meta=server_meta(
                    collected.protocol_version, collected.server_info, collected.capabilities
                ),
            )
        snapshot_id = await _store(
            snapshots, org_id, server, version, digest, collected, change, now
        )
        if change is None or latest is None:
            outcome = "first"
        elif is_empty(change):
            # Same items and server, new digest: kept as a version, reported as nothing new.
            outcome = "refreshed" if discovery.force_refresh else "unchanged"
        else:
            outcome = "changed"
            await emit(
                session,
                org_id=org_id,
                topic="server.capabilities.changed",
                payload={
                    "server_id": str(server.id),
                    "version": version,
                    "previous_version": latest.version,
                    "added": len(change["added"]),
                    "removed": len(change["removed"]),
                    "modified": len(change["modified"]),
                },
                key=f"capabilities:{server.id}:{version}",
            )
    if outcome != "unchanged":
        await CatalogRepository(session).replace_server(org_id, server.id, version, snapshot_id)
        await audit.record(
            session,
            audit.AuditTag.DISCOVERY_COMPLETED,
            org_id=org_id,
            actor=Actor("system", "discovery"),
            target=audit.Target("server", server.id),
            details={
                "discovery_id": str(discovery_id),
                "outcome": outcome,
                "version": version,
                "items": len(collected.items),
            },
        )
    server.status = "active"
    server.current_snapshot_version = version
    server.last_discovered_at = now
    discovery.status, discovery.phase, discovery.outcome = "succeeded", None, outcome
    discovery.snapshot_version, discovery.finished_at = version, now
    log.info(
        "discovery.succeeded",
        discovery_id=str(discovery_id),
        outcome=outcome,
        version=version,
        items=len(collected.items),
    )
    return "succeeded"


async def _store(
    snapshots: SnapshotRepository,
    org_id: UUID,
    server: McpServer,
    version: int,
    digest: str,
    collected: Collected,
    change: dict[str, object] | None,
    now: object,
) -> UUID:
    snapshot_id = uuid.uuid4()
    counts: dict[str, int] = {}
    for item in collected.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    await snapshots.add(
        CapabilitySnapshot(
            id=snapshot_id,
            org_id=org_id,
            server_id=server.id,
            version=version,
            digest=digest,
            protocol_version=collected.protocol_version,
            server_info=collected.server_info,
            capabilities=collected.capabilities,
            counts=counts,
            diff=change,
            truncation=collected.notes,
            last_confirmed_at=now,
        ),
        collected.items,
    )
    return snapshot_id


async def _fail(
    services: TaskServices, org_id: UUID, discovery_id: UUID, reason: str, message: str
) -> str:
    async with services.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        return await mark_failed(
            session,
            org_id,
            discovery_id,
            reason=reason,
            message=message,
            now=services.runtime.clock.now(),
        )


async def mark_failed(
    session: AsyncSession,
    org_id: UUID,
    discovery_id: UUID,
    *,
    reason: str,
    message: str,
    now: datetime,
) -> str:
    """End a queued or running discovery as failed (timed_out for a timeout), in the caller's
    transaction bound to ``org_id``; "skipped" when it had already finished or is gone."""
    status = "timed_out" if reason == "timeout" else "failed"
    discovery = await DiscoveryRepository(session).lock(org_id, discovery_id)
    if discovery is None or discovery.status not in ACTIVE:
        return "skipped"
    discovery.status, discovery.phase, discovery.reason = status, None, reason
    discovery.error = message[:1000]
    discovery.finished_at = now
    server = await SnapshotRepository(session).lock_server(org_id, discovery.server_id)
    if server is not None and server.current_snapshot_version is None:
        server.status = "discovery_failed"
    log.warning(
        "discovery.failed",
        discovery_id=str(discovery_id),
        reason=reason,
        guidance=GUIDANCE.get(reason, ""),
    )
    return status


async def abandon_discovery(
    session: AsyncSession, org_id: UUID, discovery_id: UUID, *, now: datetime
) -> str:
    """A platform operator discarded the dead job that was to run this discovery."""
    return await mark_failed(
        session,
        org_id,
        discovery_id,
        reason="job_discarded",
        message="The job running this discovery kept failing on SprintConnect's side and a "
        "platform operator discarded it.",
        now=now,
    )
