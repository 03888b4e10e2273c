"""What a token may be for: the scopes (``read``, ``write``, ``admin`` or permissions) and the
audience (RFC 8707 ``resource``) a client asks for; anything else is an ``OAuthError``."""

from __future__ import annotations

from sprintconnect.authz.permissions import ALL_SCOPES
from sprintconnect.identity.tokens.schemas import OAuthError
from sprintconnect.runtime import Runtime

DEFAULT_SCOPE = "admin"
# Accepted in ``scope`` and left out of the token's: OpenID/OAuth conventions clients send.
IGNORED_SCOPES = frozenset({"openid", "offline_access"})


def api_audience(runtime: Runtime) -> str:
    """The audience of tokens for SprintConnect's API: its public URL."""
    return runtime.settings.base_url


def parse_scope(value: str | None) -> list[str]:
    """The requested scopes (``read``, ``write``, ``admin`` or permissions), or invalid_scope."""
    if value is None or not value.strip():
        return [DEFAULT_SCOPE]
    if len(value) > 2000:
        raise OAuthError("invalid_scope", "The scope is too long.")
    names = value.split()
    unknown = sorted({n for n in names if n not in ALL_SCOPES and n not in IGNORED_SCOPES})
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(unknown[:5])}.")
    kept = sorted({n for n in names if n in ALL_SCOPES})
    return kept or [DEFAULT_SCOPE]


def resolve_audience(runtime: Runtime, requested: list[str]) -> str:
    """RFC 8707 ``resource`` (or ``audience``): the API's, the default; anything else is
    invalid_target."""
    ours = api_audience(runtime)
    chosen = {r.rstrip("/") for r in requested if r}
    if not chosen:
        return ours
    if chosen != {ours.rstrip("/")}:
        raise OAuthError("invalid_target", f"Tokens are issued for one audience only: {ours}.")
    return ours
