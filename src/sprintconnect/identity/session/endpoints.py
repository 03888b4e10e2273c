"""Sign-in routes (``/auth/...``) and the provider's configuration
(``/api/v1/organization/identity-provider``)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from sprintconnect import audit
from sprintconnect.db.session import DbSession, RuntimeDep, bind_when_used, release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import AuthenticationRequired, ValidationFailed, problem_responses
from sprintconnect.identity.deps import Authenticated, OrgRead, OrgWrite
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.auth import check_csrf, csrf_token
from sprintconnect.identity.session.configuration import ProviderConfigService
from sprintconnect.identity.session.cookies import (
    BINDING_SECONDS,
    clear_cookie,
    cookie_names,
    session_cookie,
    set_cookie,
)
from sprintconnect.identity.session.errors import (
    CrossSiteRequest,
    CsrfTokenInvalid,
    CsrfTokenMissing,
    IdentityProviderNotFound,
    IdentityProviderUnusable,
    SignInFailed,
    StepUpRequired,
    UnknownMappedRole,
)
from sprintconnect.identity.session.pages import (
    choose_org_page,
    failure_page,
    logout_page,
    signed_out_page,
)
from sprintconnect.identity.session.provider import directory, policy_for
from sprintconnect.identity.session.schemas import (
    IdentityProviderOut,
    IdentityProviderUpdate,
    LogoutOut,
    SessionOut,
    SessionUser,
)
from sprintconnect.identity.session.service import SignInService, load_provider, login_url
from sprintconnect.identity.session.stepup import require_recent_sign_in
from sprintconnect.identity.session.store import session_store, token_digest, unseal
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

auth_router = APIRouter(prefix="/auth", tags=["Sign-in"])
config_router = APIRouter(
    prefix="/api/v1/organization/identity-provider",
    tags=["Organization"],
    responses=AUTHENTICATED,
)


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


@auth_router.get(
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


@auth_router.get(
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


@auth_router.get(
    "/session",
    summary="The signed-in browser's session (for the console)",
    responses=problem_responses(AuthenticationRequired),
)
async def current_session(
    request: Request, response: Response, principal: Authenticated, runtime: RuntimeDep
) -> SessionOut:
    response.headers["Cache-Control"] = "no-store"
    cookie = session_cookie(request)
    record = getattr(request.state, "browser_session", None)
    if principal.credential != "session" or cookie is None or record is None:
        raise AuthenticationRequired("This answers only for a browser session; sign in first.")
    idle = timedelta(seconds=runtime.settings.session_idle_seconds)
    return SessionOut(
        session_id=record.id,
        org_id=principal.org_id,
        org_slug=principal.org_slug,
        user=SessionUser(
            id=record.user_id,
            email=principal.user_email,
            name=principal.user_name,
            roles=sorted(principal.roles),
        ),
        csrf_token=csrf_token(runtime, cookie),
        authenticated_at=record.authenticated_at,
        expires_at=record.expires_at,
        idle_expires_at=min(record.expires_at, runtime.clock.now() + idle),
        acr=principal.acr,
    )


async def _end_session_url(
    request: Request, runtime: Runtime, session: DbSession, org_id: UUID, id_token: str | None
) -> str | None:
    """The provider's RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0)."""
    try:
        loaded = await load_provider(request, session, org_id)
        policy = policy_for(
            runtime.settings, loaded.provider.issuer, loaded.allowlist, loaded.provider.org_id
        )
        await release_connection(session)
        metadata = await directory(request.app.state, runtime.settings).metadata(
            loaded.provider.org_id, loaded.provider.issuer, policy
        )
    except Exception:  # no provider, or unreachable: the local session still ends
        return None
    if metadata.end_session_endpoint is None:
        return None
    params = {
        "post_logout_redirect_uri": runtime.settings.base_url + "/auth/logout/done",
        "client_id": loaded.provider.client_id,
        "state": secrets.token_urlsafe(16),
    }
    if id_token:
        params["id_token_hint"] = id_token
    sep = "&" if "?" in metadata.end_session_endpoint else "?"
    return f"{metadata.end_session_endpoint}{sep}{urlencode(params)}"


@auth_router.post(
    "/logout",
    summary="Sign out: end the session (X-CSRF-Token, or the confirm page's form)",
    response_model=LogoutOut,
    responses=problem_responses(CsrfTokenMissing, CsrfTokenInvalid, CrossSiteRequest),
)
async def logout(request: Request, session: DbSession, runtime: RuntimeDep) -> Response:
    settings = runtime.settings
    names = cookie_names(settings)
    cookie = session_cookie(request)
    form_post = request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    end_url = None
    store = session_store(request.app.state, settings)
    record = await store.find(session, token_digest(runtime.keyring, cookie)) if cookie else None
    if record is not None and record.ended_at is None:
        assert cookie is not None
        sent = None
        if form_post:
            value = (await request.form()).get("csrf_token")
            sent = value if isinstance(value, str) else None
        check_csrf(request, runtime, cookie, sent=sent)
        bind_when_used(session, record.org_id)
        await bind_tenant(session, record.org_id)
        await store.end(session, record, runtime.clock.now())
        await audit.record(
            session,
            audit.AuditTag.SESSION_SIGNED_OUT,
            org_id=record.org_id,
            actor=Actor("user", str(record.user_id), str(record.user_id)),
            target=audit.Target("session", record.id),
        )
        id_token = unseal(runtime.keyring, record.id, record.id_token_sealed)
        end_url = await _end_session_url(request, runtime, session, record.org_id, id_token)
    if form_post:
        response: Response = signed_out_page(end_url)
    else:
        response = JSONResponse(LogoutOut(signed_out=True, end_session_url=end_url).model_dump())
    response.headers["Cache-Control"] = "no-store"
    clear_cookie(response, settings, names.session)
    return response


@auth_router.get("/logout", summary="The sign-out confirmation page", response_class=HTMLResponse)
async def logout_confirm(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    cookie = session_cookie(request)
    return logout_page(csrf_token(runtime, cookie) if cookie else None)


@auth_router.get(
    "/logout/done",
    summary="Where the provider returns after signing out",
    response_class=HTMLResponse,
    responses=problem_responses(ValidationFailed),
)
async def logout_done(
    state: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return signed_out_page(None)


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
