"""Discovery: the token service's public keys (JWKS) and its metadata (RFC 8414)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sprintconnect.authz.permissions import ALL_SCOPES
from sprintconnect.db.session import RuntimeDep
from sprintconnect.identity.jose import ALLOWED_ALGORITHMS
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.identity.tokens.token_endpoint import TOKEN_PATH

router = APIRouter(tags=["OAuth"])
METADATA_MAX_AGE = 300  # below keys.PUBLISH_LEAD: a cached JWKS knows a key before it signs


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
