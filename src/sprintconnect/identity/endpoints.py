"""``GET /api/v1/me``: who am I."""

from __future__ import annotations

from fastapi import APIRouter

from sprintconnect.db.session import DbSession
from sprintconnect.errors import AuthenticationRequired, RateLimited, problem_responses
from sprintconnect.identity.deps import Authenticated
from sprintconnect.identity.schemas import Me
from sprintconnect.organization.repository import OrganizationRepository

router = APIRouter(prefix="/api/v1", tags=["Identity"])


@router.get(
    "/me",
    summary="Describe the calling credentials",
    responses=problem_responses(AuthenticationRequired, RateLimited),
)
async def me(principal: Authenticated, session: DbSession) -> Me:
    org = await OrganizationRepository(session).get(principal.org_id)
    assert org is not None  # the key's own organization is always visible to it
    return Me(
        org_id=org.id,
        org_name=org.name,
        org_slug=org.slug,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        scopes=sorted(principal.scopes),
        permissions=sorted(principal.permissions),
        roles=sorted(principal.roles),
        policy_version=principal.policy_version,
    )
