"""The token service: the client credentials grant, composed with the authorization code
(``codes``) and refresh (``refresh``) grants over what they share (``issuer``: signing,
storing, revoking). OAuth failures raise ``OAuthError`` (RFC 6749 section 5.2 answers).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sprintconnect import audit
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.tokens.binding import Binding
from sprintconnect.identity.tokens.codes import CodeGrant
from sprintconnect.identity.tokens.refresh import RefreshGrant
from sprintconnect.identity.tokens.schemas import OAuthError
from sprintconnect.models.token import ServiceAccount
from sprintconnect.service_account.repository import ServiceAccountRepository


class TokenService(CodeGrant, RefreshGrant):
    """Every grant: client credentials here, the code and refresh grants inherited."""

    async def client_credentials(
        self, account: ServiceAccount, *, scope: list[str], audience: str, binding: Binding
    ) -> dict[str, Any]:
        now = self.runtime.clock.now()
        facts = await AccessRepository(self.session).facts(account.org_id, account.user_id)
        if not facts.member:  # pragma: no cover - deletion removes the account too
            raise OAuthError("invalid_client", "The service account is not a member.", status=401)
        minted = await self.mint(
            org_id=account.org_id,
            user_id=account.user_id,
            scope=" ".join(scope),
            client_id=account.client_id,
            audience=audience,
            binding=binding,
            now=now,
            service_account_id=account.id,
        )
        before = account.last_used_at
        await ServiceAccountRepository(self.session).touch_used(
            account.id, now, timedelta(minutes=1)
        )
        if before is None or before < now - timedelta(minutes=1):
            # Issuance is an authentication event: audited at most once a minute per account.
            await audit.record(
                self.session,
                audit.AuditTag.TOKEN_ISSUED,
                org_id=account.org_id,
                actor=Actor("service", str(account.id), str(account.user_id)),
                target=audit.Target("service_account", account.id),
                details={
                    "grant_type": "client_credentials",
                    "client_id": account.client_id,
                    "scope": minted.claims["scope"],
                    "bound": binding.token_type,
                },
            )
        return self._answer(minted, binding)
