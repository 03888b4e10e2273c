"""The principal an access token stands for: its subject's facts (and its service account's
state), read or from the short cache, and the ``Principal`` built from them."""

from __future__ import annotations

import time
from datetime import datetime
from uuid import UUID

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.authz.repository import AccessFacts, AccessRepository
from sprintconnect.identity.assembly import assemble_principal
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.tokens.state import Subject, TokenState
from sprintconnect.runtime import Runtime
from sprintconnect.service_account.repository import ServiceAccountRepository


async def subject_of(
    request: Request,
    state: TokenState,
    session: AsyncSession,
    org_id: UUID,
    user_id: UUID,
    account_id: UUID | None,
) -> Subject:
    """The subject's facts (and its service account's state), read or from the short cache."""
    cache = getattr(request.app.state, "principal_cache", None)
    generation = cache.generation() if cache is not None else 0
    key = (org_id, user_id, account_id)
    found = state.subjects.get(key, generation)
    if found is not None:
        return found
    facts = await AccessRepository(session).facts(org_id, user_id)
    active: bool | None = None
    if account_id is not None:
        account = await ServiceAccountRepository(session).get(org_id, account_id)
        active = account is not None and account.disabled_at is None and account.user_id == user_id
    subject = Subject(facts, active, generation, time.monotonic())
    state.subjects.put(key, subject)
    return subject


def build_principal(
    runtime: Runtime,
    facts: AccessFacts,
    *,
    org_id: UUID,
    user_id: UUID,
    scopes: frozenset[str],
    service_account_id: UUID | None = None,
    token_id: str | None = None,
    client_id: str | None = None,
    auth_time: datetime | None = None,
    acr: str | None = None,
) -> Principal:
    """A token's principal: the same type API keys give, bounded by the user's roles."""
    return assemble_principal(
        facts,
        now=runtime.clock.now(),
        org_id=org_id,
        user_id=user_id,
        scopes=scopes,
        credential="token",
        service_account_id=service_account_id,
        token_id=token_id,
        client_id=client_id,
        auth_time=auth_time,
        acr=acr,
    )
