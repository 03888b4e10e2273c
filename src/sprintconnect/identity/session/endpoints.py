"""Sign-in routes (``/auth/login``, ``/auth/callback``), and ``auth_router``: all of ``/auth``
as the app mounts it (these, then the session's routes from ``session_endpoints``).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from sprintconnect import audit
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import ValidationFailed, problem_responses
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.cookies import (
    BINDING_SECONDS,
    clear_cookie,
    cookie_names,
    session_cookie,
    set_cookie,
)
from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.links import login_url
from sprintconnect.identity.session.pages import choose_org_page, failure_page
from sprintconnect.identity.session.service import SignInService
from sprintconnect.identity.session.session_endpoints import session_router
from sprintconnect.identity.session.store import session_store, token_digest
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.runtime import Runtime

__all__ = ["auth_router"]

log = structlog.get_logger(__name__)

login_router = APIRouter(prefix="/auth", tags=["Sign-in"])


async def _record_failure(
    request: Request, runtime: Runtime, failure: SignInFailed, org_id: UUID | None
) -> None:
    """Audit a failed sign-in in the organization, in its own transaction, rate-bounded."""
    log.warning("sign_in.failed", reason=failure.reason, org_id=str(org_id or ""))
    if org_id is None:
        return
    limiter = request.app.state.failure_audit_limiter
    if not await limiter.allows(f"sign-in:{org_id}"):
        return
    async with runtime.db.sessionmaker() as own, own.begin():
        await bind_tenant(own, org_id)
        await audit.record(
            own,
            audit.AuditTag.SESSION_SIGN_IN_FAILED,
            org_id=org_id,
            actor=Actor("anonymous"),
            details={"reason": failure.reason},
        )


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def _throttle(request: Request) -> None:
    """429 for an address that failed to sign in too often, or starts too many sign-ins
    (each start writes a login state)."""
    state = request.app.state
    await state.auth_failure_limiter.check("sign-in", _address(request))
    await state.rate_limiter.hit("sign-in", _address(request))


def _retry_url(runtime: Runtime, slug: str | None) -> str | None:
    return login_url(runtime.settings.base_url, slug) if slug else None


def _pages(**statuses: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the failure page (HTML) at each status, beside the 422 problem
    that malformed query parameters get, as on every route."""
    pages: dict[int | str, dict[str, Any]] = {
        int(code[1:]): {"description": f"{why} (the failure page)", "content": {"text/html": {}}}
        for code, why in statuses.items()
    }
    return {**problem_responses(ValidationFailed), **pages}


@login_router.get(
    "/login",
    summary="Start signing in with the organization's identity provider",
    description="Redirects to the provider (Authorization Code with PKCE); failures answer a "
    "small HTML page with the reason and a retry link.",
    response_class=RedirectResponse,
    status_code=302,
    responses=_pages(
        s200="No organization given: a form asks for it",
        s400="return_to is not a path on this site",
        s404="Unknown organization",
        s409="The organization has no identity provider",
        s502="The identity provider could not be reached",
    ),
)
async def login(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    org: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="The organization's slug; without it, a page asks for it.",
        ),
    ] = None,
    return_to: Annotated[str | None, Query(max_length=2000)] = None,
    prompt: Annotated[str | None, Query(pattern="^(login|consent|select_account)$")] = None,
    max_age: Annotated[int | None, Query(ge=0, le=86_400)] = None,
) -> Response:
    if org is None:
        return choose_org_page(return_to)
    await _throttle(request)
    service = SignInService(request, runtime, session)
    try:
        url, binding = await service.begin(org, return_to, prompt=prompt, max_age=max_age)
    except SignInFailed as failure:
        await session.rollback()
        await _record_failure(request, runtime, failure, getattr(failure, "org_id", None))
        retry = _retry_url(runtime, org) if failure.reason in ("provider_unavailable",) else None
        if failure.reason == "return_to":
            retry = _retry_url(runtime, org)
        return failure_page(failure.message, failure.reason, retry, failure.status)
    response = RedirectResponse(url, status_code=302)
    response.headers["Cache-Control"] = "no-store"
    set_cookie(
        response, runtime.settings, cookie_names(runtime.settings).binding, binding, BINDING_SECONDS
    )
    return response


@login_router.get(
    "/callback",
    summary="Where the identity provider sends the browser back",
    description="Completes the sign-in, sets the session cookie and redirects to return_to; "
    "failures answer the failure page.",
    response_class=RedirectResponse,
    status_code=302,
    responses=_pages(
        s400="The sign-in cannot be completed (state, code, ID token)",
        s403="The person may not sign in to this organization",
        s409="The organization has no identity provider",
        s502="The identity provider could not be reached",
    ),
)
async def callback(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=2000)] = None,
    iss: Annotated[str | None, Query(max_length=500)] = None,
    session_state: Annotated[str | None, Query(max_length=500)] = None,
    # Sent back by some providers (Google: scope, authuser, prompt, hd); ignored.
    scope: Annotated[str | None, Query(max_length=2000)] = None,
    authuser: Annotated[str | None, Query(max_length=100)] = None,
    prompt: Annotated[str | None, Query(max_length=100)] = None,
    hd: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    names = cookie_names(runtime.settings)
    await _throttle(request)
    service = SignInService(request, runtime, session)
    try:
        done = await service.complete(
            code=code,
            state=state,
            error=error,
            binding=request.cookies.get(names.binding),
            issuer=iss,
        )
    except SignInFailed as failure:
        await session.rollback()
        await request.app.state.auth_failure_limiter.allows("sign-in", _address(request))
        org_id = getattr(failure, "org_id", None)
        await _record_failure(request, runtime, failure, org_id)
        slug = None
        if org_id is not None:
            async with runtime.db.sessionmaker() as own, own.begin():
                await bind_tenant(own, org_id)
                found = await OrganizationRepository(own).get(org_id)
                slug = found.slug if found else None
        page = failure_page(
            failure.message, failure.reason, _retry_url(runtime, slug), failure.status
        )
        clear_cookie(page, runtime.settings, names.binding)
        return page
    await _end_previous(request, runtime, session, done.org_id)
    response = RedirectResponse(runtime.settings.base_url + done.return_to, status_code=302)
    response.headers["Cache-Control"] = "no-store"
    set_cookie(
        response, runtime.settings, names.session, done.token, runtime.settings.session_max_seconds
    )
    clear_cookie(response, runtime.settings, names.binding)
    return response


async def _end_previous(
    request: Request, runtime: Runtime, session: DbSession, org_id: UUID
) -> None:
    """A browser that signs in again leaves its previous session behind: end it."""
    cookie = session_cookie(request)
    if cookie is None:
        return
    store = session_store(request.app.state, runtime.settings)
    async with runtime.db.sessionmaker() as own, own.begin():
        previous = await store.find(own, token_digest(runtime.keyring, cookie))
        if previous is None or previous.ended_at is not None:
            return
        await bind_tenant(own, previous.org_id)
        await store.end(own, previous, runtime.clock.now())


# What the app mounts: signing in, then the signed-in browser's session and signing out.
auth_router = APIRouter()
auth_router.include_router(login_router)
auth_router.include_router(session_router)
