"""The provider's ID token at the end of a sign-in: its checks, and who it says signed in.

``check_id_token`` verifies the signature and standard claims (issuer, audience, expiry),
then what binds the token to this sign-in (nonce, ``azp``, ``max_age``); ``read_claims``
maps the claims through the provider's claim mapping and applies its rules (a verified email
in an allowed domain, a usable subject).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

import structlog

from sprintconnect.identity.jose.verify import Expectations, KeySource, TokenRejected, verify_jwt
from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.provider import ProviderMetadata
from sprintconnect.identity.session.provision import Claimed
from sprintconnect.kit.text import normalize_email
from sprintconnect.models.sign_in import IdentityProvider

log = structlog.get_logger(__name__)


async def check_id_token(
    id_token: str,
    keys: KeySource,
    metadata: ProviderMetadata,
    provider: IdentityProvider,
    taken: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The claims of ``id_token`` for the sign-in whose login state is ``taken``, or raise."""
    expect = Expectations(
        issuer=provider.issuer,
        audiences=frozenset({provider.client_id}),
        token_types=frozenset({"jwt", ""}),
        algorithms=metadata.algorithms,
    )
    try:
        claims = await verify_jwt(id_token, keys, expect, now=now)
    except TokenRejected as exc:
        log.warning("sign_in.id_token_rejected", reason=exc.reason)
        raise SignInFailed(
            f"id_token_{exc.reason}",
            f"The identity provider's answer could not be verified: {exc.description}",
        ) from exc
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(
        nonce.encode(), str(taken["nonce"]).encode()
    ):
        raise SignInFailed(
            "id_token_nonce", "The identity provider's answer is not for this sign-in."
        )
    aud = claims.get("aud")
    azp = claims.get("azp")
    several = isinstance(aud, list) and len(aud) > 1
    if (azp is not None or several) and azp != provider.client_id:
        raise SignInFailed(
            "id_token_azp", "The identity provider's answer was issued to another client."
        )
    max_age = taken.get("max_age")
    if max_age is not None:
        auth_time = claims.get("auth_time")
        if isinstance(auth_time, int | float) and now.timestamp() - auth_time > max_age + 30:
            raise SignInFailed(
                "stale_authentication",
                "The identity provider did not ask you to sign in again. Start again.",
            )
    return claims


def read_claims(provider: IdentityProvider, claims: dict[str, Any]) -> Claimed:
    """Who signed in, through ``provider``'s claim mapping; raise when its rules refuse them."""
    raw = claims.get(provider.claim_email)
    try:
        email = normalize_email(raw) if isinstance(raw, str) else ""
    except ValueError:
        email = ""
    if not email:
        raise SignInFailed(
            "email_missing",
            "The identity provider did not share a valid email address. Allow the 'email' "
            "scope for SprintConnect at the provider.",
        )
    if claims.get("email_verified") is False:
        raise SignInFailed(
            "email_unverified",
            "Your email address is not verified at the identity provider.",
            status=403,
        )
    domain = email.rpartition("@")[2].lower()
    if provider.allowed_email_domains and domain not in provider.allowed_email_domains:
        raise SignInFailed(
            "email_domain",
            f"Accounts with {domain} addresses cannot sign in to this organization.",
            status=403,
        )
    name = claims.get(provider.claim_name)
    groups_raw = claims.get(provider.claim_groups)
    groups: tuple[str, ...] = ()
    if isinstance(groups_raw, list):
        groups = tuple(g for g in groups_raw if isinstance(g, str))[:500]
    elif isinstance(groups_raw, str):
        groups = (groups_raw,)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInFailed("id_token_sub", "The identity provider's answer is not usable.")
    return Claimed(
        issuer=provider.issuer,
        subject=subject,
        email=email,
        name=name[:200] if isinstance(name, str) and name else None,
        groups=groups,
    )
