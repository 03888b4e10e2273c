"""Creating, listing, changing and deleting service accounts, and checking their secrets.

A service account is a member of its organization: a ``users`` row (synthetic email
``<client_id>@service-accounts.invalid``, never a login) with a membership and role
assignments here, so every permission, role and policy applies to it unchanged. Roles are
granted under the same limit as members' (``RoleService.require_grantable``).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.service import hide_unless_readable
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import Conflict, NotFound
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.pagination import decode_cursor, encode_cursor
from sprintconnect.kit.secrets import KeyRing, constant_time_equals
from sprintconnect.models.token import ServiceAccount
from sprintconnect.role.repository import AssignmentRepository
from sprintconnect.role.service import RoleService
from sprintconnect.service_account import schemas
from sprintconnect.service_account.repository import ServiceAccountRepository
from sprintconnect.user.repository import MembershipRepository
from sprintconnect.user.service import add_membership, get_or_create_user

HMAC_PURPOSE = "service-account/secret"
CLIENT_PREFIX = "sa_"
SECRET_PREFIX = "scs_"  # noqa: S105 - a prefix
EMAIL_DOMAIN = "service-accounts.invalid"
_ALPHABET = string.ascii_lowercase + string.digits
USE_DEBOUNCE = timedelta(minutes=1)


class ServiceAccountNotFound(NotFound):
    slug = "service-account-not-found"
    title = "Service account not found"


class ServiceAccountNameTaken(Conflict):
    slug = "service-account-name-taken"
    title = "A service account with this name exists"


@dataclass
class IssuedAccount:
    view: schemas.ServiceAccount
    secret: str


def secret_digest(keyring: KeyRing, secret: str) -> bytes:
    return keyring.hmac(HMAC_PURPOSE, secret.encode())


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _view(account: ServiceAccount, roles: list[str]) -> schemas.ServiceAccount:
    return schemas.ServiceAccount(
        id=account.id,
        client_id=account.client_id,
        name=account.name,
        description=account.description,
        roles=sorted(roles),
        user_id=account.user_id,
        status="disabled" if account.disabled_at is not None else "active",
        created_at=account.created_at,
        updated_at=account.updated_at,
        secret_rotated_at=account.secret_rotated_at,
        last_used_at=account.last_used_at,
    )


class ServiceAccountService:
    def __init__(self, session: AsyncSession, principal: Principal, keyring: KeyRing) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.keyring = keyring
        self.accounts = ServiceAccountRepository(session)
        self.assignments = AssignmentRepository(session)
        self.roles = RoleService(session, principal)

    def _not_found(self, account_id: UUID) -> ServiceAccountNotFound:
        return ServiceAccountNotFound(
            f"No service account has the id {account_id} in this organization."
        )

    async def _row(self, account_id: UUID) -> ServiceAccount:
        account = await self.accounts.get(self.org_id, account_id)
        if account is None:
            raise self._not_found(account_id)
        return account

    async def _roles_of(self, accounts: list[ServiceAccount]) -> dict[UUID, list[str]]:
        return await self.assignments.roles_by_user(self.org_id, [a.user_id for a in accounts])

    async def get(self, account_id: UUID) -> schemas.ServiceAccount:
        account = await self._row(account_id)
        return _view(account, (await self._roles_of([account]))[account.user_id])

    async def page(
        self, *, cursor: str | None, limit: int
    ) -> tuple[list[schemas.ServiceAccount], str | None]:
        after = decode_cursor(cursor) if cursor else None
        rows = list(await self.accounts.page(self.org_id, after=after, limit=limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        held = await self._roles_of(rows)
        last = rows[-1] if rows else None
        next_cursor = encode_cursor(last.created_at, last.id) if more and last else None
        return [_view(a, held[a.user_id]) for a in rows], next_cursor

    async def create(self, data: schemas.ServiceAccountCreate, now: datetime) -> IssuedAccount:
        for role in data.roles:
            await self.roles.require_grantable(role)
        if await self.accounts.by_name(self.org_id, data.name) is not None:
            raise ServiceAccountNameTaken(
                f"A service account named '{data.name}' exists in this organization."
            )
        client_id = CLIENT_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(20))
        user = await get_or_create_user(self.session, f"{client_id}@{EMAIL_DOMAIN}")
        await add_membership(
            self.session,
            org_id=self.org_id,
            user=user,
            roles=data.roles,
            actor=self.principal.actor,
            granted_by=self.principal.user_id,
            display_name=data.name,
        )
        secret = _new_secret()
        account = await self.accounts.add(
            ServiceAccount(
                org_id=self.org_id,
                user_id=user.id,
                client_id=client_id,
                name=data.name,
                description=data.description,
                secret_hash=secret_digest(self.keyring, secret),
                created_by_user_id=self.principal.user_id,
                updated_at=now,
            )
        )
        await self._audit(
            audit.AuditTag.SERVICE_ACCOUNT_CREATED,
            account,
            {"name": data.name, "client_id": client_id, "roles": data.roles},
        )
        return IssuedAccount(_view(account, data.roles), secret)

    async def update(
        self, account_id: UUID, data: schemas.ServiceAccountUpdate, now: datetime
    ) -> schemas.ServiceAccount:
        account = await self._row(account_id)
        changed: dict[str, object] = {}
        if data.name is not None and data.name != account.name:
            if await self.accounts.by_name(self.org_id, data.name) is not None:
                raise ServiceAccountNameTaken(
                    f"A service account named '{data.name}' exists in this organization."
                )
            account.name = data.name
            changed["name"] = data.name
        if "description" in data.model_fields_set and data.description != account.description:
            account.description = data.description
            changed["description"] = data.description
        if data.roles is not None:
            held = set((await self._roles_of([account]))[account.user_id])
            for role in sorted(set(data.roles) - held):
                await self.roles.assign(account.user_id, role)
            for role in sorted(held - set(data.roles)):
                await self.roles.unassign(account.user_id, role)
            if held != set(data.roles):
                changed["roles"] = data.roles
        if data.disabled is not None and data.disabled != (account.disabled_at is not None):
            account.disabled_at = now if data.disabled else None
            changed["disabled"] = data.disabled
        if changed:
            account.updated_at = now
            await self.session.flush()
            await self._audit(audit.AuditTag.SERVICE_ACCOUNT_UPDATED, account, changed)
        return await self.get(account_id)

    async def rotate_secret(self, account_id: UUID, now: datetime) -> IssuedAccount:
        """A new secret at once; the old one stops working (issued tokens run out)."""
        account = await self._row(account_id)
        await self._require_reach(account)
        secret = _new_secret()
        account.secret_hash = secret_digest(self.keyring, secret)
        account.secret_rotated_at = now
        account.updated_at = now
        await self.session.flush()
        await self._audit(audit.AuditTag.SERVICE_ACCOUNT_SECRET_ROTATED, account, {})
        return IssuedAccount(await self.get(account_id), secret)

    async def delete(self, account_id: UUID) -> None:
        """Delete the account, its roles and its membership: its tokens stop working."""
        account = await self._row(account_id)
        held = (await self._roles_of([account]))[account.user_id]
        for role in held:
            await self.roles.unassign(account.user_id, role)
        await MembershipRepository(self.session).remove(self.org_id, account.user_id)
        await self.accounts.remove(self.org_id, account.id)
        await self._audit(
            audit.AuditTag.SERVICE_ACCOUNT_DELETED,
            account,
            {"name": account.name, "client_id": account.client_id},
        )

    async def _require_reach(self, account: ServiceAccount) -> None:
        """Acting for an account (a new secret) takes holding every role it holds."""
        for role in (await self._roles_of([account]))[account.user_id]:
            try:
                await self.roles.require_grantable(role)
            except NotFound:
                hide_unless_readable(self.principal, "roles:read", self._not_found(account.id))
                raise

    async def _audit(
        self, tag: audit.AuditTag, account: ServiceAccount, details: dict[str, object]
    ) -> None:
        await audit.record(
            self.session,
            tag,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("service_account", account.id),
            details={"client_id": account.client_id, **details},
        )


@dataclass(frozen=True)
class ClientFailure:
    """Why client authentication failed, with what is known of the client."""

    reason: str
    org_id: UUID | None = None
    account_id: UUID | None = None


async def authenticate_client(
    session: AsyncSession, keyring: KeyRing, client_id: str, secret: str
) -> ServiceAccount | ClientFailure:
    """The service account for a client id and secret; binds the transaction to its org."""
    if not client_id.startswith(CLIENT_PREFIX) or len(client_id) > 64:
        return ClientFailure("unknown_client")
    repo = ServiceAccountRepository(session)
    located = await repo.locate(client_id)
    if located is None:
        return ClientFailure("unknown_client")
    account_id, org_id = located
    await bind_tenant(session, org_id)
    account = await repo.get(org_id, account_id)
    if account is None:
        return ClientFailure("unknown_client")
    if not constant_time_equals(account.secret_hash, secret_digest(keyring, secret)):
        return ClientFailure("secret_mismatch", org_id, account_id)
    if account.disabled_at is not None:
        return ClientFailure("disabled", org_id, account_id)
    return account
