"""Sender-constrained tokens: what a token is bound to (a DPoP key, RFC 9449, and/or a client
certificate, RFC 8705) and checking that a request proves it.

``cnf.jkt`` requires the ``DPoP`` scheme and a valid proof for this request (``ath`` over the
token, the bound key); an unbound token sent as ``DPoP`` and a bound one sent as ``Bearer`` are
refused. ``cnf["x5t#S256"]`` requires the client certificate that the TLS-terminating proxy
forwards (``SPRINTCONNECT_CLIENT_CERT_HEADER``) to match.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from sprintconnect.identity.jose import (
    DpopRejected,
    InvalidDpopProof,
    InvalidToken,
    TokenRejected,
    certificate_thumbprint,
)
from sprintconnect.identity.tokens.state import TokenState
from sprintconnect.runtime import Runtime


@dataclass(frozen=True)
class Binding:
    """What a token is bound to: a DPoP key (``jkt``) and/or a client certificate."""

    jkt: str | None = None
    x5t: str | None = None

    def cnf(self) -> dict[str, str] | None:
        cnf = {}
        if self.jkt:
            cnf["jkt"] = self.jkt
        if self.x5t:
            cnf["x5t#S256"] = self.x5t
        return cnf or None

    @property
    def token_type(self) -> str:
        return "DPoP" if self.jkt else "Bearer"


def request_url(runtime: Runtime, request: Request) -> str:
    """The URL a client addressed, as DPoP's ``htu`` names it: the public base URL + path.

    The path as received (``raw_path``): a client signs the bytes it sent, and Starlette's
    ``url.path`` has its percent-escapes decoded already.
    """
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    return runtime.settings.base_url + path


def dpop_header(request: Request) -> str | None:
    """The one ``DPoP`` header, or None when absent or repeated (RFC 9449 section 4.3)."""
    values = request.headers.getlist("dpop")
    return values[0] if len(values) == 1 else None


def client_thumbprint(runtime: Runtime, request: Request) -> str | None:
    """``x5t#S256`` of the certificate the proxy forwarded, when configured and present."""
    name = runtime.settings.client_cert_header
    if not name:
        return None
    value = request.headers.get(name)
    if value is None:
        return None
    return certificate_thumbprint(value)


async def check_binding(
    request: Request,
    runtime: Runtime,
    state: TokenState,
    token: str,
    claims: dict[str, Any],
    scheme: str,
) -> None:
    """DPoP and certificate binding of a verified token, for this request."""
    cnf = claims.get("cnf")
    if cnf is not None and not isinstance(cnf, dict):
        raise InvalidToken("The token's 'cnf' claim is malformed.", reason="malformed")
    jkt = cnf.get("jkt") if cnf else None
    if jkt is not None:
        if scheme != "dpop":
            raise InvalidToken(
                "This token is DPoP-bound: send it as 'Authorization: DPoP <token>' with a "
                "DPoP proof.",
                scheme="DPoP",
                reason="dpop_required",
            )
        if not isinstance(jkt, str):
            raise InvalidToken("The token's 'cnf.jkt' is malformed.", reason="malformed")
        try:
            await state.dpop.verify(
                dpop_header(request),
                method=request.method,
                url=request_url(runtime, request),
                now=runtime.clock.now(),
                access_token=token,
                expected_jkt=jkt,
            )
        except DpopRejected as exc:
            raise InvalidDpopProof.from_rejection(exc) from exc
    elif scheme == "dpop":
        raise InvalidToken(
            "This token is not DPoP-bound: send it as 'Authorization: Bearer <token>'.",
            scheme="DPoP",
            reason="not_dpop_bound",
        )
    x5t = cnf.get("x5t#S256") if cnf else None
    if x5t is not None:
        try:
            presented = client_thumbprint(runtime, request)
        except TokenRejected as exc:
            raise InvalidToken(exc.description, reason="certificate") from exc
        if presented is None or not isinstance(x5t, str):
            raise InvalidToken(
                "This token is bound to a client certificate; present it over mutual TLS.",
                reason="certificate_required",
            )
        if not hmac.compare_digest(presented, x5t):
            raise InvalidToken(
                "The client certificate is not the one the token is bound to.",
                reason="certificate_mismatch",
            )
