"""Token service answers (RFC 6749, 7662, 8414) and the OAuth error form.

Errors of ``/oauth/token``, ``/oauth/introspect`` and ``/oauth/revoke`` are the JSON of RFC 6749
section 5.2 (``{"error": ..., "error_description": ...}``), which OAuth clients expect, not
problem+json: 400 for a bad request or grant, 401 ``invalid_client`` for failed client
authentication (with ``WWW-Authenticate: Basic`` when the client used Basic).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The OpenAPI request body of the form-encoded endpoints (token, introspect, revoke).
FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error answer."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers={**NO_STORE, **self.headers},
        )


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field(description="`Bearer`, or `DPoP` for a DPoP-bound token.")
    expires_in: int
    scope: str
    refresh_token: str | None = Field(
        default=None, description="Authorization-code and refresh grants only; rotated on use."
    )


class Introspection(BaseModel):
    """RFC 7662 section 2.2: ``active`` only, when the token is not active for the caller."""

    model_config = ConfigDict(extra="allow")

    active: bool


def introspection(active: bool, **claims: Any) -> dict[str, Any]:
    if not active:
        return {"active": False}
    return {"active": True, **{k: v for k, v in claims.items() if v is not None}}
