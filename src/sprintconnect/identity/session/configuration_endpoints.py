"""The organization's identity provider configuration routes
(``/api/v1/organization/identity-provider``): read, set, remove."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import problem_responses
from sprintconnect.identity.deps import OrgRead, OrgWrite
from sprintconnect.identity.session.configuration import ProviderConfigService
from sprintconnect.identity.session.errors import (
    IdentityProviderNotFound,
    IdentityProviderUnusable,
    StepUpRequired,
    UnknownMappedRole,
)
from sprintconnect.identity.session.schemas import IdentityProviderOut, IdentityProviderUpdate
from sprintconnect.identity.session.stepup import require_recent_sign_in
from sprintconnect.kit.responses import AUTHENTICATED

config_router = APIRouter(
    prefix="/api/v1/organization/identity-provider",
    tags=["Organization"],
    responses=AUTHENTICATED,
)


@config_router.get(
    "",
    summary="The organization's identity provider",
    responses=problem_responses(IdentityProviderNotFound),
)
async def get_provider(
    request: Request, principal: OrgRead, session: DbSession, runtime: RuntimeDep
) -> IdentityProviderOut:
    return await ProviderConfigService(request, session, principal, runtime.settings).get()


@config_router.put(
    "",
    summary="Set the organization's identity provider",
    description="Fetches the provider's metadata and keys first (through the egress guard) and "
    "answers 422 when they cannot be read. The client secret is write-only. Needs a recent "
    "sign-in when called from a browser session (step-up).",
    responses=problem_responses(IdentityProviderUnusable, UnknownMappedRole, StepUpRequired),
)
async def put_provider(
    request: Request,
    body: IdentityProviderUpdate,
    principal: OrgWrite,
    session: DbSession,
    runtime: RuntimeDep,
) -> IdentityProviderOut:
    await require_recent_sign_in(request, principal)
    service = ProviderConfigService(request, session, principal, runtime.settings)
    return await service.put(body, runtime.clock.now())


@config_router.delete(
    "",
    summary="Remove the organization's identity provider",
    status_code=204,
    responses=problem_responses(IdentityProviderNotFound, StepUpRequired),
)
async def delete_provider(
    request: Request, principal: OrgWrite, session: DbSession, runtime: RuntimeDep
) -> Response:
    await require_recent_sign_in(request, principal)
    await ProviderConfigService(request, session, principal, runtime.settings).delete()
    return Response(status_code=204)
