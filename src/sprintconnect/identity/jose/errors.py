"""Problems for rejected tokens and DPoP proofs, each with its ``WWW-Authenticate`` challenge.

InvalidCredentials (401, sprintconnect.errors)
├── InvalidToken        invalid-token        Bearer/DPoP error="invalid_token"
└── InvalidDpopProof    invalid-dpop-proof   DPoP error="invalid_dpop_proof" or
                                             "use_dpop_nonce" with a DPoP-Nonce header
"""

from __future__ import annotations

from typing import Any, Literal

from sprintconnect.errors import InvalidCredentials
from sprintconnect.identity.jose.challenge import bearer_challenge, dpop_challenge
from sprintconnect.identity.jose.dpop import DpopRejected
from sprintconnect.identity.jose.verify import TokenRejected


class InvalidToken(InvalidCredentials):
    """A bearer or DPoP-bound access token that failed verification (RFC 6750 invalid_token)."""

    slug = "invalid-token"
    title = "The access token is not valid"

    def __init__(
        self,
        detail: str | None = None,
        *,
        scheme: Literal["Bearer", "DPoP"] = "Bearer",
        reason: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.reason = reason
        challenge = (
            dpop_challenge("invalid_token", detail)
            if scheme == "DPoP"
            else bearer_challenge("invalid_token", detail)
        )
        self.headers = {"WWW-Authenticate": challenge}

    @classmethod
    def from_rejection(
        cls, exc: TokenRejected, *, scheme: Literal["Bearer", "DPoP"] = "Bearer"
    ) -> InvalidToken:
        return cls(exc.description, scheme=scheme, reason=exc.reason)


class InvalidDpopProof(InvalidCredentials):
    """A missing, malformed, replayed or unbound DPoP proof (RFC 9449 section 7.1)."""

    slug = "invalid-dpop-proof"
    title = "The DPoP proof is not valid"

    def __init__(
        self,
        detail: str | None = None,
        *,
        use_nonce: str | None = None,
        reason: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, **extra)
        self.reason = reason
        self.use_nonce = use_nonce
        if use_nonce is not None:
            self.headers = {
                "WWW-Authenticate": dpop_challenge("use_dpop_nonce", detail),
                "DPoP-Nonce": use_nonce,
            }
        else:
            self.headers = {"WWW-Authenticate": dpop_challenge("invalid_dpop_proof", detail)}

    @classmethod
    def from_rejection(cls, exc: DpopRejected) -> InvalidDpopProof:
        return cls(exc.description, use_nonce=exc.use_nonce, reason=exc.reason)
