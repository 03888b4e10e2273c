"""The signed-in browser's session routes: reading it (``/auth/session``, for the console)
and signing out (``/auth/logout``, with the provider's RP-initiated logout)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from sprintconnect import audit
from sprintconnect.db.session import DbSession, RuntimeDep, bind_when_used, release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import AuthenticationRequired, ValidationFailed, problem_responses
from sprintconnect.identity.deps import Authenticated
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.cookies import clear_cookie, cookie_names, session_cookie
from sprintconnect.identity.session.csrf import check_csrf, csrf_token
from sprintconnect.identity.session.errors import (
    CrossSiteRequest,
    CsrfTokenInvalid,
    CsrfTokenMissing,
)
from sprintconnect.identity.session.loading import load_provider
from sprintconnect.identity.session.pages import logout_page, signed_out_page
from sprintconnect.identity.session.provider import directory, policy_for
from sprintconnect.identity.session.schemas import LogoutOut, SessionOut, SessionUser
from sprintconnect.identity.session.store import session_store, token_digest, unseal
from sprintconnect.runtime import Runtime

session_router = APIRouter(prefix="/auth", tags=["Sign-in"])


@session_router.get(
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


@session_router.post(
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


@session_router.get(
    "/logout", summary="The sign-out confirmation page", response_class=HTMLResponse
)
async def logout_confirm(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    cookie = session_cookie(request)
    return logout_page(csrf_token(runtime, cookie) if cookie else None)


@session_router.get(
    "/logout/done",
    summary="Where the provider returns after signing out",
    response_class=HTMLResponse,
    responses=problem_responses(ValidationFailed),
)
async def logout_done(
    state: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return signed_out_page(None)
