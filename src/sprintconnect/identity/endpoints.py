"""``GET /api/v1/me``: who am I."""

from __future__ import annotations

from fastapi import APIRouter

from sprintconnect.errors import AuthenticationRequired, RateLimited, problem_responses
from sprintconnect.identity.deps import Authenticated
from sprintconnect.identity.schemas import Me

router = APIRouter(prefix="/api/v1", tags=["Identity"])


@router.get(
    "/me",
    summary="Describe the calling credentials",
    responses=problem_responses(AuthenticationRequired, RateLimited),
)
async def me(principal: Authenticated) -> Me:
    # Everything comes with the principal (read with its roles, or from the key cache): a
    # request answered from the cache touches no database connection at all.
    return Me(
        org_id=principal.org_id,
        org_name=principal.org_name,
        org_slug=principal.org_slug,
        user_id=principal.user_id,
        email=principal.user_email,
        name=principal.user_name,
        credential=principal.credential,
        api_key_id=principal.api_key_id,
        service_account_id=principal.service_account_id,
        scopes=sorted(principal.scopes),
        permissions=sorted(principal.permissions),
        roles=sorted(principal.roles),
        policy_version=principal.policy_version,
        super_admin=principal.super_admin,
    )
