"""OAuth endpoints: token, authorize, introspect, revoke; JWKS and server metadata."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from sprintconnect.authz.permissions import ALL_SCOPES
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    BadRequest,
    PermissionDenied,
    RateLimited,
    SprintConnectError,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.auth import authenticate_request, require
from sprintconnect.identity.jose import ALLOWED_ALGORITHMS, DpopRejected, TokenRejected
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.tokens.bearer import client_thumbprint, dpop_header
from sprintconnect.identity.tokens.clients import (
    Client,
    Form,
    account_principal,
    authenticate,
    read_form,
)
from sprintconnect.identity.tokens.lifecycle import Caller, Lifecycle
from sprintconnect.identity.tokens.schemas import (
    NO_STORE,
    Introspection,
    OAuthError,
    TokenResponse,
)
from sprintconnect.identity.tokens.service import (
    PUBLIC_CLIENTS,
    Binding,
    TokenService,
    parse_scope,
    resolve_audience,
    valid_challenge,
)
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.runtime import Runtime

router = APIRouter(tags=["OAuth"])
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path
METADATA_MAX_AGE = 300  # below keys.PUBLISH_LEAD: a cached JWKS knows a key before it signs
_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}


async def _binding(request: Request, runtime: Runtime) -> Binding:
    """The DPoP key (a proof for this token request) and client certificate, when present."""
    state = token_state(request.app)
    jkt = None
    if request.headers.getlist("dpop"):
        try:
            proof = await state.dpop.verify(
                dpop_header(request),
                method="POST",
                url=runtime.settings.base_url + TOKEN_PATH,
                now=runtime.clock.now(),
            )
        except DpopRejected as exc:
            if exc.use_nonce is not None:
                raise OAuthError(
                    "use_dpop_nonce", exc.description, headers={"DPoP-Nonce": exc.use_nonce}
                ) from exc
            raise OAuthError("invalid_dpop_proof", exc.description) from exc
        jkt = proof.jkt
    try:
        x5t = client_thumbprint(runtime, request)
    except TokenRejected as exc:
        raise OAuthError(
            "invalid_request", "The forwarded client certificate is not readable."
        ) from exc
    return Binding(jkt=jkt, x5t=x5t)


def _nonce_headers(request: Request, runtime: Runtime) -> dict[str, str]:
    if not runtime.settings.dpop_require_nonce:
        return {}
    return {"DPoP-Nonce": token_state(request.app).nonces.current(runtime.clock.now())}


@router.post(
    TOKEN_PATH,
    summary="Token endpoint (RFC 6749)",
    description="Form-encoded; errors are RFC 6749 section 5.2 JSON (`error`, "
    "`error_description`: 400, or 401 `invalid_client`), not problem documents. "
    "`grant_type`: `client_credentials` (a service account, "
    "client_secret_basic or client_secret_post; `scope` narrows, `resource`/`audience` "
    "selects the audience), `authorization_code` (PKCE S256, public client "
    "`sprintconnect-cli`) or `refresh_token` (rotated on every use; a reused one revokes its "
    "grant). A `DPoP` proof header binds the tokens to its key. Errors are RFC 6749 JSON.",
    response_model=TokenResponse,
    openapi_extra=_FORM_BODY,
)
async def token(request: Request, session: DbSession, runtime: RuntimeDep) -> Response:
    try:
        body = await _token(request, session, runtime)
    except OAuthError as error:
        # An error answer still commits what was written on purpose (a reused refresh
        # token's family revoked, its alert): nothing else writes before an error.
        return error.response()
    return JSONResponse(body, headers={**NO_STORE, **_nonce_headers(request, runtime)})


async def _token(request: Request, session: DbSession, runtime: Runtime) -> dict[str, Any]:
    form = await read_form(request)
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant not in ("client_credentials", "authorization_code", "refresh_token"):
        raise OAuthError(
            "unsupported_grant_type", "Use client_credentials, authorization_code or refresh_token."
        )
    client = await authenticate(request, runtime, session, form, allow_public=True)
    if client is None:
        raise OAuthError("invalid_client", "Authenticate the client.", status=401)
    binding = await _binding(request, runtime)
    service = TokenService(session, runtime, token_state(request.app))
    if grant == "client_credentials":
        if client.account is None:
            raise OAuthError("unauthorized_client", "Only service accounts use client_credentials.")
        return await service.client_credentials(
            client.account,
            scope=parse_scope(form.get("scope")),
            audience=resolve_audience(runtime, _resources(form)),
            binding=binding,
        )
    if client.public is None:
        raise OAuthError("unauthorized_client", f"This client cannot use {grant}.")
    if grant == "authorization_code":
        return await service.exchange_code(
            client_id=client.client_id,
            code=form.get("code") or "",
            redirect_uri=form.get("redirect_uri"),
            verifier=form.get("code_verifier"),
            binding=binding,
        )
    return await service.refresh(
        client_id=client.client_id,
        token=form.get("refresh_token") or "",
        scope=form.get("scope"),
        binding=binding,
    )


def _resources(form: Form) -> list[str]:
    return [*form.lists.get("resource", []), *form.lists.get("audience", [])]


# --- authorization endpoint -------------------------------------------------------------------


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


# --- introspection and revocation -------------------------------------------------------------


async def _caller(
    request: Request, runtime: Runtime, session: DbSession, form: Form, *, allow_public: bool
) -> tuple[Principal | None, Client | None]:
    client = await authenticate(request, runtime, session, form, allow_public=allow_public)
    if client is not None:
        if client.account is not None:
            return await account_principal(runtime, session, client.account), client
        return None, client
    if request.headers.get("authorization") is None:
        raise OAuthError("invalid_client", "Authenticate the caller.", status=401)
    try:
        return await authenticate_request(request, runtime, session), None
    except AuthenticationRequired as exc:
        raise OAuthError("invalid_client", exc.detail or exc.title, status=401) from exc


async def _holds(request: Request, session: DbSession, principal: Principal, action: str) -> bool:
    try:
        await require(request, session, principal, action)
    except PermissionDenied:
        return False
    return True


@router.post(
    "/oauth/introspect",
    summary="Token introspection (RFC 7662)",
    description="For access tokens, refresh tokens and API keys (`sc_...`). The caller is a "
    "service account (client secret) or any credential holding `api_keys:read`. A token "
    'of another organization, or not active, answers `{"active": false}`.',
    response_model=Introspection,
    openapi_extra=_FORM_BODY,
)
async def introspect(request: Request, session: DbSession, runtime: RuntimeDep) -> Response:
    try:
        form = await read_form(request)
        principal, _ = await _caller(request, runtime, session, form, allow_public=False)
        assert principal is not None
        if not await _holds(request, session, principal, "api_keys:read"):
            raise OAuthError("insufficient_scope", "Introspection needs api_keys:read.", status=403)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required.")
        lifecycle = Lifecycle(TokenService(session, runtime, token_state(request.app)))
        body = await lifecycle.introspect(principal, token[:20_000])
    except OAuthError as error:
        return error.response()
    return JSONResponse(body, headers=NO_STORE)


@router.post(
    "/oauth/revoke",
    summary="Token revocation (RFC 7009)",
    description="Revokes an access token (refused everywhere within seconds), a refresh token "
    "(its whole grant) or an API key. A client may revoke its own tokens (the public CLI "
    "client by `client_id` alone); revoking others' needs `api_keys:write` in their "
    "organization. An unknown token answers 200 as well. Errors are RFC 6749 JSON.",
    response_class=Response,
    openapi_extra=_FORM_BODY,
)
async def revoke(request: Request, session: DbSession, runtime: RuntimeDep) -> Response:
    try:
        form = await read_form(request)
        principal, client = await _caller(request, runtime, session, form, allow_public=True)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required.")
        may_manage = principal is not None and await _holds(
            request, session, principal, "api_keys:write"
        )
        caller = Caller(
            principal,
            client.client_id
            if client is not None
            else (principal.client_id if principal else None),
            may_manage,
        )
        lifecycle = Lifecycle(TokenService(session, runtime, token_state(request.app)))
        try:
            await lifecycle.revoke(caller, token[:20_000])
        except SprintConnectError as error:
            if error.status in (403, 404):
                raise OAuthError(
                    "insufficient_scope", error.detail or error.title, status=403
                ) from error
            raise
    except OAuthError as error:
        return error.response()
    return Response(status_code=200, headers=NO_STORE)


# --- discovery --------------------------------------------------------------------------------


@router.get(
    "/.well-known/jwks.json",
    summary="The token service's public keys (JWKS)",
    description="Every key a valid token may be signed with: the signing key, the next one "
    "(published before it signs) and retired ones until their tokens expire.",
)
async def jwks(request: Request) -> JSONResponse:
    document = await token_state(request.app).keys.jwks()
    return JSONResponse(
        document,
        headers={"Cache-Control": f"public, max-age={METADATA_MAX_AGE}"},
    )


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="Authorization server metadata (RFC 8414)",
)
async def metadata(runtime: RuntimeDep) -> JSONResponse:
    base = runtime.settings.base_url
    auth_methods = ["client_secret_basic", "client_secret_post"]
    document: dict[str, Any] = {
        "issuer": base,
        "authorization_endpoint": base + "/oauth/authorize",
        "token_endpoint": base + TOKEN_PATH,
        "jwks_uri": base + "/.well-known/jwks.json",
        "introspection_endpoint": base + "/oauth/introspect",
        "revocation_endpoint": base + "/oauth/revoke",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": sorted(ALL_SCOPES | {"offline_access"}),
        "dpop_signing_alg_values_supported": sorted(ALLOWED_ALGORITHMS),
        "authorization_response_iss_parameter_supported": True,
        "tls_client_certificate_bound_access_tokens": bool(runtime.settings.client_cert_header),
        "resource_indicators_supported": True,
    }
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={METADATA_MAX_AGE}"})
