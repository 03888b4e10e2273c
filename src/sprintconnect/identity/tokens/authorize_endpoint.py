"""The authorization endpoint (RFC 6749 section 4.1, PKCE S256): a signed-in browser gets a
code for the public CLI client; without a session, a redirect to sign-in that comes back."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    BadRequest,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.auth import authenticate_request
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.tokens.clients import PUBLIC_CLIENTS
from sprintconnect.identity.tokens.codes import valid_challenge
from sprintconnect.identity.tokens.schemas import NO_STORE, OAuthError
from sprintconnect.identity.tokens.scopes import parse_scope, resolve_audience
from sprintconnect.identity.tokens.service import TokenService
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.runtime import Runtime

router = APIRouter(tags=["OAuth"])


class AuthorizationRequestInvalid(BadRequest):
    slug = "authorization-request-invalid"
    title = "The authorization request is not valid"


class BrowserSessionRequired(PermissionDenied):
    slug = "browser-session-required"
    title = "Authorization needs a signed-in browser"


def _redirect(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}?{query}", status_code=302, headers=NO_STORE)


@router.get(
    "/oauth/authorize",
    summary="Authorization endpoint (code + PKCE S256)",
    description="For the public client `sprintconnect-cli` (redirect URI "
    "`http://127.0.0.1:<port>/callback`). A signed-in browser gets a redirect with a code "
    "valid 60 s; without a session, a redirect to sign-in that comes back here.",
    status_code=302,
    response_class=RedirectResponse,
    responses=problem_responses(
        AuthorizationRequestInvalid, BrowserSessionRequired, ValidationFailed, RateLimited
    ),
)
async def authorize(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    response_type: Annotated[str | None, Query(max_length=20)] = None,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    redirect_uri: Annotated[str | None, Query(max_length=200)] = None,
    code_challenge: Annotated[str | None, Query(max_length=128)] = None,
    code_challenge_method: Annotated[str | None, Query(max_length=10)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    scope: Annotated[str | None, Query(max_length=2000)] = None,
    resource: Annotated[str | None, Query(max_length=500)] = None,
    dpop_jkt: Annotated[str | None, Query(max_length=64)] = None,
    org: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    client = PUBLIC_CLIENTS.get(client_id or "")
    if client is None:
        raise AuthorizationRequestInvalid("Unknown client_id.")
    if redirect_uri is None or not client.redirect_allowed(redirect_uri):
        raise AuthorizationRequestInvalid(
            "redirect_uri must be http://127.0.0.1:<port>/callback (or [::1])."
        )

    def fail(error: str, description: str) -> RedirectResponse:
        return _redirect(
            redirect_uri,
            {
                "error": error,
                "error_description": description,
                "state": state,
                "iss": runtime.settings.base_url,
            },
        )

    if response_type != "code":
        return fail("unsupported_response_type", "response_type must be code.")
    if code_challenge_method != "S256" or not code_challenge or not valid_challenge(code_challenge):
        return fail("invalid_request", "PKCE with code_challenge_method S256 is required.")
    if dpop_jkt is not None and not (
        len(dpop_jkt) == 43 and dpop_jkt.replace("-", "a").replace("_", "a").isalnum()
    ):
        return fail("invalid_request", "dpop_jkt is malformed.")
    try:
        scopes = parse_scope(scope)
        audience = resolve_audience(runtime, [resource] if resource else [])
    except OAuthError as error:
        return fail(error.error, error.description)
    principal = await _signed_in(request, runtime, session)
    if principal is None or (org is not None and org != principal.org_slug):
        return _login(request, org)
    service = TokenService(session, runtime, token_state(request.app))
    assert principal.user_id is not None
    code = await service.create_code(
        org_id=principal.org_id,
        user_id=principal.user_id,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        scope=scopes,
        audience=audience,
        jkt=dpop_jkt,
        auth_time=principal.auth_time,
        acr=principal.acr,
        session_id=principal.session_id,
    )
    return _redirect(redirect_uri, {"code": code, "state": state, "iss": runtime.settings.base_url})


async def _signed_in(request: Request, runtime: Runtime, session: DbSession) -> Principal | None:
    """The browser session's principal; None when there is none (or it ended)."""
    if request.headers.get("authorization") is not None:
        raise BrowserSessionRequired(
            "Open this URL in a browser signed in to SprintConnect; API credentials cannot "
            "authorize a client."
        )
    from sprintconnect.identity.session.auth import session_cookie

    if session_cookie(request) is None:
        return None
    try:
        principal = await authenticate_request(request, runtime, session)
    except AuthenticationRequired:
        return None
    if principal.credential != "session" or principal.user_id is None:
        raise BrowserSessionRequired("Sign in with a browser to authorize a client.")
    return principal


def _login(request: Request, org: str | None) -> RedirectResponse:
    here = request.url.path + ("?" + request.url.query if request.url.query else "")
    params = {"return_to": here}
    if org is not None:
        params = {"org": org, **params}
    return RedirectResponse("/auth/login?" + urlencode(params), status_code=302, headers=NO_STORE)
