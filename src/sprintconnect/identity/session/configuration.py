"""The organization's identity provider: read, set (validated against the provider), remove.

A PUT fetches the provider's metadata and key set through the egress guard before anything is
stored, and answers 422 with guidance when they cannot be read or do not fit. The client
secret goes to the secret store and is never answered.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.permissions import BUILT_IN_ROLES
from sprintconnect.config import Settings
from sprintconnect.db.session import release_connection
from sprintconnect.identity.jose.jwks import fetch_json, parse_key_set
from sprintconnect.identity.jose.verify import TokenRejected
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.session.errors import (
    IdentityProviderNotFound,
    IdentityProviderUnusable,
    UnknownMappedRole,
)
from sprintconnect.identity.session.links import login_url
from sprintconnect.identity.session.provider import (
    SECRET_PATH,
    ProviderUnavailable,
    directory,
    fetch_metadata,
    issuer_problem,
    policy_for,
)
from sprintconnect.identity.session.repository import ProviderRepository
from sprintconnect.identity.session.schemas import IdentityProviderOut, IdentityProviderUpdate
from sprintconnect.models.sign_in import IdentityProvider
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.role.repository import RoleRepository


def view(provider: IdentityProvider, settings: Settings, slug: str) -> IdentityProviderOut:
    return IdentityProviderOut(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret_set=provider.client_secret_ref is not None,
        scopes=list(provider.scopes),
        allowed_email_domains=list(provider.allowed_email_domains),
        claim_name=provider.claim_name,
        claim_email=provider.claim_email,
        claim_groups=provider.claim_groups,
        group_roles={k: list(v) for k, v in (provider.group_roles or {}).items()},
        access_token_audience=provider.access_token_audience,
        enabled=provider.enabled,
        redirect_uri=settings.base_url + "/auth/callback",
        login_url=login_url(settings.base_url, slug),
        updated_at=provider.updated_at,
    )


class ProviderConfigService:
    def __init__(
        self, request: Request, session: AsyncSession, principal: Principal, settings: Settings
    ) -> None:
        self.request = request
        self.session = session
        self.principal = principal
        self.settings = settings
        self.providers = ProviderRepository(session)

    async def get(self) -> IdentityProviderOut:
        provider = await self.providers.get(self.principal.org_id)
        if provider is None:
            raise IdentityProviderNotFound(
                "This organization has no identity provider; PUT one to enable sign-in."
            )
        return view(provider, self.settings, self.principal.org_slug)

    async def _check_roles(self, data: IdentityProviderUpdate) -> None:
        custom = {r.name for r in await RoleRepository(self.session).custom(self.principal.org_id)}
        for group, roles in data.group_roles.items():
            for role in roles:
                if role not in BUILT_IN_ROLES and role not in custom:
                    raise UnknownMappedRole(
                        f"Group {group[:100]!r} maps to the role {role!r}, which does not exist "
                        "in this organization. Create it first, or use a built-in role "
                        f"({', '.join(sorted(BUILT_IN_ROLES))}).",
                        loc=["body", "group_roles", group],
                    )

    async def _validate_provider(self, data: IdentityProviderUpdate, allowlist: list[str]) -> None:
        problem = issuer_problem(self.settings, data.issuer)
        if problem is not None:
            raise IdentityProviderUnusable(problem, loc=["body", "issuer"])
        policy = policy_for(self.settings, data.issuer, allowlist, self.principal.org_id)
        try:
            metadata = await fetch_metadata(data.issuer, policy)
            keys = parse_key_set(await fetch_json(metadata.jwks_uri, policy))
        except ProviderUnavailable as exc:
            raise IdentityProviderUnusable(exc.message, loc=["body", "issuer"]) from exc
        except (TokenRejected, ValueError) as exc:
            raise IdentityProviderUnusable(
                "The provider's signing keys (jwks_uri) could not be read. Check that the "
                "provider is reachable from SprintConnect.",
                loc=["body", "issuer"],
            ) from exc
        if not keys:
            raise IdentityProviderUnusable(
                "The provider publishes no signing key SprintConnect can use.",
                loc=["body", "issuer"],
            )

    async def put(self, data: IdentityProviderUpdate, now: datetime) -> IdentityProviderOut:
        org_id = self.principal.org_id
        await self._check_roles(data)
        org = await OrganizationRepository(self.session).get(org_id)
        allowlist = list(org.egress_allowlist) if org else []
        existing = await self.providers.get(org_id)
        await release_connection(self.session)  # no connection held while the provider answers
        await self._validate_provider(data, allowlist)
        secret_ref = existing.client_secret_ref if existing is not None else None
        if data.client_secret is not None:
            await self.request.app.state.secret_store.put(
                org_id, SECRET_PATH, {"client_secret": data.client_secret.get_secret_value()}
            )
            secret_ref = SECRET_PATH
        values = data.model_dump(exclude={"client_secret"})
        if existing is None:
            provider = await self.providers.add(
                IdentityProvider(org_id=org_id, client_secret_ref=secret_ref, **values)
            )
        else:
            existing = await self.providers.get(org_id) or existing
            for name, value in values.items():
                setattr(existing, name, value)
            existing.client_secret_ref = secret_ref
            existing.updated_at = now
            provider = await self.providers.save(existing)
        await audit.record(
            self.session,
            audit.AuditTag.IDENTITY_PROVIDER_UPDATED,
            org_id=org_id,
            actor=self.principal.actor,
            target=audit.Target("identity_provider", provider.id),
            details={
                **{k: v for k, v in values.items() if k != "group_roles"},
                "group_roles": data.group_roles,
                "client_secret_changed": data.client_secret is not None,
            },
        )
        await directory(self.request.app.state, self.settings).forget(org_id)
        return view(provider, self.settings, self.principal.org_slug)

    async def delete(self) -> None:
        org_id = self.principal.org_id
        provider = await self.providers.get(org_id)
        if provider is None:
            raise IdentityProviderNotFound("This organization has no identity provider.")
        await self.providers.remove(org_id)
        if provider.client_secret_ref:
            await self.request.app.state.secret_store.delete(org_id, provider.client_secret_ref)
        await audit.record(
            self.session,
            audit.AuditTag.IDENTITY_PROVIDER_DELETED,
            org_id=org_id,
            actor=self.principal.actor,
            target=audit.Target("identity_provider", provider.id),
            details={"issuer": provider.issuer},
        )
        await directory(self.request.app.state, self.settings).forget(org_id)
