"""The refresh token grant (RFC 6749 section 6): rotation on every use, reuse detection."""

from __future__ import annotations

from typing import Any

import structlog

from sprintconnect.authz.repository import AccessRepository
from sprintconnect.identity.tokens.binding import Binding
from sprintconnect.identity.tokens.issuer import REFRESH_PREFIX, REFRESH_PURPOSE, TokenIssuer
from sprintconnect.identity.tokens.schemas import OAuthError
from sprintconnect.identity.tokens.scopes import parse_scope

log = structlog.get_logger(__name__)


class RefreshGrant(TokenIssuer):
    """Exchanging a refresh token (the token endpoint)."""

    async def refresh(
        self, *, client_id: str, token: str, scope: str | None, binding: Binding
    ) -> dict[str, Any]:
        """Rotate: a new refresh token each use; a rotated one presented again revokes the
        whole family (reuse detection: audited alert and event)."""
        now = self.runtime.clock.now()
        invalid = OAuthError("invalid_grant", "The refresh token is not valid.")
        if not token.startswith(REFRESH_PREFIX) or len(token) > 200:
            raise invalid
        located = await self.grants.locate_refresh(self._digest(REFRESH_PURPOSE, token))
        if located is None:
            raise invalid
        token_id, org_id = located
        from sprintconnect.db.tenancy import bind_tenant

        await bind_tenant(self.session, org_id)
        row = await self.grants.refresh_for_update(org_id, token_id)
        if row is None or row.client_id != client_id:
            raise invalid
        # Binding first: a bound token presented without its key proves nothing about who
        # holds it, so it neither answers more nor revokes the owner's grant as a reuse would.
        if row.jkt is not None and binding.jkt != row.jkt:
            raise OAuthError(
                "invalid_dpop_proof", "The refresh token is bound to a DPoP key: prove that key."
            )
        if row.x5t is not None and binding.x5t != row.x5t:
            raise OAuthError("invalid_grant", "The refresh token is bound to a certificate.")
        if row.revoked_at is not None:
            raise OAuthError("invalid_grant", "The refresh token has been revoked.")
        if row.rotated_at is not None:
            await self.grants.revoke_family(org_id, row.family_id, now, "reuse_detected")
            await self._alert_reuse(org_id, row.user_id, row.family_id, "refresh_token", now)
            log.warning("token.refresh_reuse", org_id=str(org_id), family=str(row.family_id))
            raise OAuthError(
                "invalid_grant",
                "The refresh token was already used; every token of its grant is revoked.",
            )
        if row.expires_at <= now:
            raise OAuthError("invalid_grant", "The refresh token has expired.")
        narrowed = row.scope
        if scope is not None and scope.strip():
            wanted = parse_scope(scope)
            if not set(wanted) <= set(row.scope.split()):
                raise OAuthError("invalid_scope", "A refresh can only narrow the scope.")
            narrowed = " ".join(wanted)
        facts = await AccessRepository(self.session).facts(org_id, row.user_id)
        if not facts.member:
            await self.grants.revoke_family(org_id, row.family_id, now, "not_a_member")
            raise OAuthError("invalid_grant", "The user is no longer a member.")
        row.rotated_at = now
        keep = Binding(jkt=row.jkt or binding.jkt, x5t=row.x5t or binding.x5t)
        minted, refresh = await self._issue_pair(row, row.family_id, keep, now, narrowed)
        await self.session.flush()
        return self._answer(minted, keep, refresh)
