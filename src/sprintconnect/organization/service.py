"""Creating organizations and bootstrapping the first admin."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.service import ApiKeyService, IssuedKey
from sprintconnect.audit.redaction import forget as forget_sensitive_fields
from sprintconnect.catalog.repository import CatalogRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import Conflict, NotFound, ValidationFailed
from sprintconnect.identity.principal import Actor
from sprintconnect.kit.text import has_control_chars, slugify
from sprintconnect.models import Membership, Organization, User
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.user.service import add_membership, get_or_create_user


class OrganizationExists(Conflict):
    slug = "organization-exists"
    title = "An organization with this name already exists"


class OrganizationNotFound(NotFound):
    slug = "organization-not-found"
    title = "Organization not found"


@dataclass
class Bootstrap:
    organization: Organization
    user: User
    membership: Membership
    api_key: IssuedKey


async def create_organization(session: AsyncSession, name: str, *, actor: Actor) -> Organization:
    """Create an organization and bind the transaction to it."""
    name = name.strip()
    slug = slugify(name)
    if not name or len(name) > 200 or has_control_chars(name) or not slug:
        raise ValidationFailed(
            "An organization name is 1 to 200 printable characters, "
            "with at least one letter or digit.",
            loc=("body", "name"),
        )
    orgs = OrganizationRepository(session)
    if await orgs.lookup_id(slug) is not None:
        raise OrganizationExists(f"The organization slug '{slug}' is taken.")
    org = Organization(id=uuid.uuid4(), name=name, slug=slug)
    await bind_tenant(session, org.id)
    await orgs.add(org)
    await audit.record(
        session,
        audit.AuditTag.ORG_CREATED,
        org_id=org.id,
        actor=actor,
        target=audit.Target("organization", org.id),
        details={"name": name, "slug": slug},
    )
    return org


async def resolve_organization(session: AsyncSession, ref: str) -> Organization:
    """Find an organization by id, slug or name and bind the transaction to it."""
    orgs = OrganizationRepository(session)
    try:
        org_id: uuid.UUID | None = uuid.UUID(ref)
    except ValueError:
        org_id = await orgs.lookup_id(ref)
    if org_id is None:
        raise OrganizationNotFound(f"No organization is named '{ref}'.")
    await bind_tenant(session, org_id)
    org = await orgs.get(org_id)
    if org is None:
        raise OrganizationNotFound(f"No organization has the id '{ref}'.")
    return org


async def bootstrap(
    session: AsyncSession, keys: ApiKeyService, *, org_name: str, email: str
) -> Bootstrap:
    """The first organization, its admin user and an admin API key, in one transaction."""
    system = Actor("system", "bootstrap")
    org = await create_organization(session, org_name, actor=system)
    user = await get_or_create_user(session, email)
    membership = await add_membership(
        session, org_id=org.id, user=user, roles=["admin"], actor=system
    )
    issued = await keys.issue(
        org_id=org.id,
        name="bootstrap",
        description="Created by 'sprintconnect admin bootstrap'",
        scopes=["admin"],
        expires_at=None,
        created_by_user_id=user.id,
        actor=system,
    )
    await audit.record(
        session,
        audit.AuditTag.ORG_BOOTSTRAPPED,
        org_id=org.id,
        actor=system,
        target=audit.Target("organization", org.id),
        details={"admin_user_id": str(user.id), "api_key_id": str(issued.record.id)},
    )
    return Bootstrap(organization=org, user=user, membership=membership, api_key=issued)


async def update_settings(
    session: AsyncSession, org: Organization, changes: dict[str, object], *, actor: Actor
) -> Organization:
    """Apply the settings an organization's admins may change; audited."""
    for field, value in changes.items():
        setattr(org, field, value)
    await session.flush()
    details: dict[str, object] = {"changed": sorted(changes)}
    if "audit_sensitive_fields" in changes:
        forget_sensitive_fields(session)  # this entry is masked by the new list already
        details["audit_sensitive_fields"] = list(org.audit_sensitive_fields)
    await audit.record(
        session,
        audit.AuditTag.ORG_SETTINGS_UPDATED,
        org_id=org.id,
        actor=actor,
        target=audit.Target("organization", org.id),
        details=details,
    )
    # The allowlist decides which registered servers can be reached: searches cache on this.
    await CatalogRepository(session).bump(org.id)
    return org
