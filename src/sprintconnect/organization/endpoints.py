"""``/api/v1/organization``: the caller's organization and its settings."""

from __future__ import annotations

from fastapi import APIRouter

from sprintconnect.config import Settings
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.gateway.limits import effective_limits, merged_limits
from sprintconnect.health.config import min_interval
from sprintconnect.identity.deps import OrgRead, OrgWrite
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.models import Organization
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.organization.schemas import GatewayLimits, OrganizationOut, OrganizationUpdate
from sprintconnect.organization.service import update_settings

router = APIRouter(prefix="/api/v1/organization", tags=["Organization"], responses=AUTHENTICATED)


def _out(org: Organization, settings: Settings) -> OrganizationOut:
    return OrganizationOut(
        id=org.id,
        name=org.name,
        slug=org.slug,
        time_zone=org.time_zone,
        egress_allowlist=list(org.egress_allowlist),
        server_quota=org.server_quota,
        health_min_interval_seconds=min_interval(org, settings),
        health_failure_threshold=org.health_failure_threshold,
        health_degraded_after_seconds=org.health_degraded_after_seconds,
        audit_sensitive_fields=list(org.audit_sensitive_fields),
        gateway_limits=GatewayLimits(**effective_limits(settings, org.gateway_limits)),
        created_at=org.created_at,
    )


@router.get("", summary="Your organization and its settings")
async def get_organization(
    principal: OrgRead, session: DbSession, runtime: RuntimeDep
) -> OrganizationOut:
    org = await OrganizationRepository(session).get(principal.org_id)
    assert org is not None  # always visible to its own members
    return _out(org, runtime.settings)


@router.patch(
    "",
    summary="Change your organization's settings",
    description="Name, time zone (used by time-window policies), egress allowlist, the "
    "health escalation thresholds (servers may override them), the audit log's sensitive "
    "fields and the gateway's rate limits per capability class. The server quota and the "
    "minimum health check interval are the platform operator's to set.",
)
async def update_organization(
    body: OrganizationUpdate, principal: OrgWrite, session: DbSession, runtime: RuntimeDep
) -> OrganizationOut:
    org = await OrganizationRepository(session).get(principal.org_id)
    assert org is not None
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if body.gateway_limits is not None:
        changes["gateway_limits"] = merged_limits(
            org.gateway_limits, body.gateway_limits.model_dump(exclude_unset=True)
        )
    org = await update_settings(session, org, changes, actor=principal.actor)
    return _out(org, runtime.settings)
