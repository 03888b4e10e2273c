"""The introspection (RFC 7662) and revocation (RFC 7009) endpoints; ``lifecycle`` answers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import AuthenticationRequired, PermissionDenied, SprintConnectError
from sprintconnect.identity.auth import authenticate_request, require
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.tokens.clients import (
    Client,
    Form,
    account_principal,
    authenticate,
    read_form,
)
from sprintconnect.identity.tokens.lifecycle import Caller, Lifecycle
from sprintconnect.identity.tokens.schemas import FORM_BODY, NO_STORE, Introspection, OAuthError
from sprintconnect.identity.tokens.service import TokenService
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.runtime import Runtime

router = APIRouter(tags=["OAuth"])


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
    openapi_extra=FORM_BODY,
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
    openapi_extra=FORM_BODY,
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
