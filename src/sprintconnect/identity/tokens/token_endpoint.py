"""The token endpoint (RFC 6749 section 3.2): client credentials, authorization code and
refresh token grants, with the DPoP proof or client certificate that binds what it issues."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.identity.jose import DpopRejected, TokenRejected
from sprintconnect.identity.tokens.binding import Binding, client_thumbprint, dpop_header
from sprintconnect.identity.tokens.clients import Form, authenticate, read_form
from sprintconnect.identity.tokens.schemas import (
    FORM_BODY,
    NO_STORE,
    OAuthError,
    TokenResponse,
)
from sprintconnect.identity.tokens.scopes import parse_scope, resolve_audience
from sprintconnect.identity.tokens.service import TokenService
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.runtime import Runtime

router = APIRouter(tags=["OAuth"])
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path


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
    openapi_extra=FORM_BODY,
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
