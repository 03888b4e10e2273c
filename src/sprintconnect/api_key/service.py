"""Issuing, listing, revoking and verifying API keys."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.authority import SERVICE, USER, owns, revocation_requirement
from sprintconnect.api_key.repository import ApiKeyRepository
from sprintconnect.api_key.schemas import key_status as key_status  # re-exported
from sprintconnect.authz.access import effective_permissions
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.authz.service import hide_unless_readable
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import (
    CredentialsExpired,
    CredentialsRevoked,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sprintconnect.identity.auth_events import client_fingerprint, stamp_use, use_due
from sprintconnect.identity.cache import forget_after_commit
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.scopes import exceeding
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.pagination import decode_cursor, encode_cursor
from sprintconnect.kit.secrets import KeyRing, constant_time_equals
from sprintconnect.models import ApiKey
from sprintconnect.user.repository import MembershipRepository, UserRepository

HMAC_PURPOSE = "api-key/hmac"
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
KEY_PATTERN = re.compile(r"^sc_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


class ApiKeyNotFound(NotFound):
    slug = "api-key-not-found"
    title = "API key not found"


class ScopeAboveGranter(PermissionDenied):
    slug = "scope-above-granter"
    title = "A key cannot carry scopes its creator lacks"


class KeyOwnerRequired(PermissionDenied):
    slug = "key-owner-required"
    title = "Only a member's key can create API keys"


class KeyReachAboveGranter(PermissionDenied):
    slug = "key-reach-above-granter"
    title = "A member's key cannot act with permissions you do not hold"


class KeyAboveRevoker(PermissionDenied):
    slug = "key-above-revoker"
    title = "You cannot revoke a key that acts with permissions you do not hold"

    def __init__(self, missing: list[str], *, operator_key: bool) -> None:
        reason = (
            "It is an operator key (a service key, or a platform super admin's key); only "
            "a caller acting with every permission, an admin, may revoke it."
            if operator_key
            else f"It acts with {', '.join(missing)}, which you do not hold."
        )
        super().__init__(
            f"You may revoke your own keys, and other keys within your permissions. {reason}",
            missing_permissions=missing,
            operator_key=operator_key,
        )


@dataclass
class IssuedKey:
    record: ApiKey
    plaintext: str


@dataclass
class KeyFailure:
    """Why a presented key was refused, with the org it belongs to when that is known."""

    error: InvalidCredentials | CredentialsExpired | CredentialsRevoked
    org_id: UUID | None = None
    key_id: UUID | None = None
    reason: str = "invalid"


def _not_found(key_id: UUID) -> ApiKeyNotFound:
    return ApiKeyNotFound(f"No API key has the id {key_id} in this organization.")


class ApiKeyService:
    def __init__(self, session: AsyncSession, keyring: KeyRing, clock: Clock) -> None:
        self.session = session
        self.keyring = keyring
        self.clock = clock
        self.keys = ApiKeyRepository(session)

    def digest(self, plaintext: str) -> bytes:
        """The HMAC of a key as stored; what the in-process key cache is keyed by."""
        return self.keyring.hmac(HMAC_PURPOSE, plaintext.encode())

    async def issue(
        self,
        *,
        org_id: UUID,
        name: str,
        description: str | None,
        scopes: list[str],
        expires_at: datetime | None,
        created_by_user_id: UUID | None,
        actor: Actor,
        issued_by_user_id: UUID | None = None,
    ) -> IssuedKey:
        """Issue a key, a ``user`` key when it has an owner and a ``service`` key otherwise.

        Only operators issue service keys (the CLI); ``issue_for`` never does. The audit
        entry names the owner, and who issued it when that is another member.
        """
        if expires_at is not None and expires_at <= self.clock.now():
            raise ValidationFailed("expires_at must be in the future.", loc=("body", "expires_at"))
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(12))
        plaintext = f"sc_{prefix}_{secrets.token_urlsafe(32)}"
        record = await self.keys.add(
            ApiKey(
                org_id=org_id,
                name=name,
                description=description,
                prefix=prefix,
                key_hash=self.digest(plaintext),
                scopes=sorted(set(scopes)),
                expires_at=expires_at,
                created_by_user_id=created_by_user_id,
                kind=USER if created_by_user_id is not None else SERVICE,
            )
        )
        await audit.record(
            self.session,
            audit.AuditTag.API_KEY_CREATED,
            org_id=org_id,
            actor=actor,
            target=audit.Target("api_key", record.id),
            details={
                "name": name,
                "prefix": prefix,
                "scopes": record.scopes,
                "kind": record.kind,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "owner_user_id": str(created_by_user_id) if created_by_user_id else None,
                **({"issued_by_user_id": str(issued_by_user_id)} if issued_by_user_id else {}),
            },
        )
        return IssuedKey(record=record, plaintext=plaintext)

    async def issue_for(
        self,
        principal: Principal,
        *,
        name: str,
        description: str | None,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> IssuedKey:
        """Issue a key on behalf of a caller, who may not grant more than they hold.

        The key belongs to the caller's member; a service key (no member) cannot mint keys,
        so that every owner-less key is one an operator issued.
        """
        if principal.user_id is None:
            raise KeyOwnerRequired(
                "This is a service key; service keys are issued by an operator with "
                "'sprintconnect admin create-api-key'. Create keys with a member's key."
            )
        _require_scopes_held(principal, scopes)
        return await self.issue(
            org_id=principal.org_id,
            name=name,
            description=description,
            scopes=scopes,
            expires_at=expires_at,
            created_by_user_id=principal.user_id,
            actor=principal.actor,
        )

    async def issue_for_member(
        self,
        principal: Principal,
        member_id: UUID,
        *,
        name: str,
        description: str | None,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> IssuedKey:
        """Issue a ``user`` key owned by ``member_id`` (a member: the caller checked it).

        The key acts with the member's roles, read on every request, intersected with its
        scopes. The caller's grant limit applies to that reach as it is now: scopes beyond
        the caller's own key, or permissions the member would act with that the caller does
        not hold, are refused. A platform operator's key carries platform powers that no
        organization grants, so it is never minted here.
        """
        _require_scopes_held(principal, scopes)
        facts = await AccessRepository(self.session).facts(principal.org_id, member_id)
        if facts.super_admin:
            raise KeyReachAboveGranter(
                "This member is a platform operator (super admin); their keys act on the "
                "platform itself, so only they can create them.",
                missing_permissions=[],
            )
        reach = effective_permissions(facts, frozenset(scopes), has_user=True)
        missing = sorted(reach - principal.permissions)
        if missing:
            raise KeyReachAboveGranter(
                f"With these scopes the member's key would act with {', '.join(missing)}, "
                "which you do not hold. Narrow the scopes.",
                missing_permissions=missing,
            )
        return await self.issue(
            org_id=principal.org_id,
            name=name,
            description=description,
            scopes=scopes,
            expires_at=expires_at,
            created_by_user_id=member_id,
            actor=principal.actor,
            issued_by_user_id=principal.user_id,
        )

    async def get(self, org_id: UUID, key_id: UUID) -> ApiKey:
        key = await self.keys.get(org_id, key_id)
        if key is None:
            raise _not_found(key_id)
        return key

    async def page(
        self, org_id: UUID, *, cursor: str | None, limit: int
    ) -> tuple[list[ApiKey], str | None]:
        after = decode_cursor(cursor) if cursor else None
        rows = list(await self.keys.page(org_id, after=after, limit=limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
        return rows, next_cursor

    async def revoke(self, principal: Principal, key_id: UUID) -> ApiKey:
        """Revoke a key at once; revoking a revoked key changes nothing and answers the same.

        The caller must be allowed to (``api_key.authority``): their own key, or a key that
        acts within what they hold.
        """
        key = await self.get(principal.org_id, key_id)
        await self._require_revocable(principal, key)
        if key.revoked_at is not None:
            return key
        await _mark_revoked(
            self.session, key, now=self.clock.now(), actor=principal.actor, by=principal.user_id
        )
        return key

    async def _require_revocable(self, principal: Principal, key: ApiKey) -> None:
        if owns(principal, key):
            return
        owner = (
            await AccessRepository(self.session).facts(key.org_id, key.created_by_user_id)
            if key.created_by_user_id is not None
            else None
        )
        needed = revocation_requirement(key, owner)
        missing = sorted(needed.permissions - principal.permissions)
        if missing:
            hide_unless_readable(principal, "api_keys:read", _not_found(key.id))
            raise KeyAboveRevoker(missing, operator_key=needed.operator_key)

    async def verify(
        self, presented: str, *, debounce: timedelta, stamp: bool = True
    ) -> ApiKey | KeyFailure:
        """Check a presented key and bind the transaction to its organization when it is valid.

        ``stamp=False``: check only, record no use (a background re-check of a cached key is
        not a use of it).
        """
        match = KEY_PATTERN.match(presented)
        if match is None:
            return KeyFailure(InvalidCredentials("The API key is malformed."), reason="malformed")
        located = await self.keys.locate(match.group(1))
        if located is None:
            return KeyFailure(InvalidCredentials("The API key is not valid."), reason="unknown")
        key_id, org_id = located
        await bind_tenant(self.session, org_id)
        found = await self.keys.get_with_owner_membership(org_id, key_id)
        if found is None or not constant_time_equals(found[0].key_hash, self.digest(presented)):
            return KeyFailure(
                InvalidCredentials("The API key is not valid."), org_id, key_id, "secret_mismatch"
            )
        key, owner_is_member = found
        now = self.clock.now()
        status = key_status(key, now)
        if status == "revoked":
            return KeyFailure(
                CredentialsRevoked("The API key has been revoked."), org_id, key_id, "revoked"
            )
        if status == "expired":
            assert key.expires_at is not None
            return KeyFailure(
                CredentialsExpired(
                    f"The API key expired at {key.expires_at.isoformat()}; create a new key.",
                    expired_at=key.expires_at.isoformat(),
                ),
                org_id,
                key_id,
                "expired",
            )
        if key.kind == USER and not owner_is_member:
            # Removal revokes a member's keys; this holds even when the row went another way.
            return KeyFailure(
                CredentialsRevoked(
                    "The API key's owner is no longer a member of this organization."
                ),
                org_id,
                key_id,
                "owner_not_member",
            )
        # The row is in hand: skip the write (and its round trip) while the stamp is fresh.
        client = client_fingerprint()
        recent = tuple(key.recent_clients)
        if stamp and use_due(key.last_used_at, recent, client, now=now, debounce=debounce):
            await stamp_use(
                self.session,
                key_id=key.id,
                org_id=org_id,
                owner_id=key.created_by_user_id,
                prefix=match.group(1),
                now=now,
                debounce=debounce,
                client=client,
                recent=recent,
            )
        return key


async def member_by_email(session: AsyncSession, org_id: UUID, email: str) -> UUID:
    """The user id of the member with ``email`` in the (bound) organization, for the CLI."""
    # Imported here: the user domain imports this module (removal revokes keys).
    from sprintconnect.user.service import MemberNotFound

    user = await UserRepository(session).by_email(email)
    if user is None or await MembershipRepository(session).get(org_id, user.id) is None:
        raise MemberNotFound(f"{email} is not a member of this organization; add them first.")
    return user.id


def _require_scopes_held(principal: Principal, scopes: list[str]) -> None:
    above = exceeding(principal.scopes, scopes)
    if above:
        raise ScopeAboveGranter(
            f"Your credentials do not hold {', '.join(above)}; a new key cannot carry them.",
            missing_scopes=above,
        )


async def revoke_member_keys(
    session: AsyncSession,
    org_id: UUID,
    user_id: UUID,
    *,
    now: datetime,
    actor: Actor,
    revoked_by: UUID | None,
) -> list[ApiKey]:
    """Revoke every live key ``user_id`` owns in the (bound) organization; each audited."""
    keys = list(await ApiKeyRepository(session).live_of_owner(org_id, user_id))
    for key in keys:
        await _mark_revoked(
            session, key, now=now, actor=actor, by=revoked_by, reason="member_removed"
        )
    return keys


async def _mark_revoked(
    session: AsyncSession,
    key: ApiKey,
    *,
    now: datetime,
    actor: Actor,
    by: UUID | None,
    reason: str | None = None,
) -> None:
    key.revoked_at = now
    key.revoked_by_user_id = by
    await session.flush()
    forget_after_commit(session, key.org_id)  # refused at once in this process
    await audit.record(
        session,
        audit.AuditTag.API_KEY_REVOKED,
        org_id=key.org_id,
        actor=actor,
        target=audit.Target("api_key", key.id),
        details={"prefix": key.prefix, **({"reason": reason} if reason else {})},
    )
