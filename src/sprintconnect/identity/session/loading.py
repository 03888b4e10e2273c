"""Loading an organization's identity provider for a call to it: the configuration, its
client secret (from the secret store) and the organization's egress allowlist."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.repository import ProviderRepository
from sprintconnect.models.sign_in import IdentityProvider
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret.errors import SecretNotFound


@dataclass(frozen=True)
class LoadedProvider:
    provider: IdentityProvider
    secret: str | None
    allowlist: list[str]


async def load_provider(request: Request, session: AsyncSession, org_id: UUID) -> LoadedProvider:
    """The (bound) organization's enabled provider, its client secret and egress allowlist."""
    provider = await ProviderRepository(session).get(org_id)
    if provider is None or not provider.enabled:
        raise SignInFailed(
            "no_provider",
            "This organization has no identity provider set up for sign-in. An administrator "
            "can configure one (PUT /api/v1/organization/identity-provider).",
            status=409,
        )
    org = await OrganizationRepository(session).get(org_id)
    secret: str | None = None
    if provider.client_secret_ref:
        try:
            value = await request.app.state.secret_store.get(org_id, provider.client_secret_ref)
            secret = value["client_secret"]
        except (SecretNotFound, KeyError):
            secret = None
    return LoadedProvider(provider, secret, list(org.egress_allowlist) if org else [])
