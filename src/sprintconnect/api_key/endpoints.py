"""HTTP routes for API keys."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from sprintconnect.api_key import schemas
from sprintconnect.api_key.service import (
    ApiKeyNotFound,
    ApiKeyService,
    KeyAboveRevoker,
    KeyOwnerRequired,
    ScopeAboveGranter,
)
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidCursor,
    RateLimited,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.deps import ApiKeysRead, ApiKeysWrite
from sprintconnect.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from sprintconnect.models import ApiKey
from sprintconnect.runtime import Runtime

router = APIRouter(
    prefix="/api/v1/api-keys",
    tags=["API keys"],
    responses=problem_responses(AuthenticationRequired, InsufficientScope, RateLimited),
)


def _out(key: ApiKey, runtime: Runtime) -> schemas.ApiKey:
    return schemas.ApiKey.of(key, runtime.clock.now())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
    description="The key is in the answer's `key` field this once; only its HMAC is stored.",
    responses=problem_responses(ValidationFailed, ScopeAboveGranter, KeyOwnerRequired),
)
async def create_api_key(
    body: schemas.ApiKeyCreate, principal: ApiKeysWrite, session: DbSession, runtime: RuntimeDep
) -> schemas.ApiKeyCreated:
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    issued = await service.issue_for(
        principal,
        name=body.name,
        description=body.description,
        scopes=body.scopes,
        expires_at=body.expiry(runtime.clock.now()),
    )
    return schemas.ApiKeyCreated(api_key=_out(issued.record, runtime), key=issued.plaintext)


@router.get(
    "",
    summary="List API keys",
    description="Newest first. Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(InvalidCursor),
)
async def list_api_keys(
    principal: ApiKeysRead,
    session: DbSession,
    runtime: RuntimeDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[schemas.ApiKey]:
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    rows, next_cursor = await service.page(principal.org_id, cursor=cursor, limit=limit)
    return Page[schemas.ApiKey](items=[_out(k, runtime) for k in rows], next_cursor=next_cursor)


@router.get(
    "/{key_id}",
    summary="Get an API key",
    responses=problem_responses(ApiKeyNotFound, ValidationFailed),
)
async def get_api_key(
    key_id: UUID, principal: ApiKeysRead, session: DbSession, runtime: RuntimeDep
) -> schemas.ApiKey:
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    return _out(await service.get(principal.org_id, key_id), runtime)


@router.post(
    "/{key_id}/revoke",
    summary="Revoke an API key",
    description="Takes effect on the very next request. Revoking twice answers the same. "
    "You may revoke your own keys, and another member's key when you hold every permission "
    "it acts with; service keys and platform operators' keys only with every permission.",
    responses=problem_responses(ApiKeyNotFound, ValidationFailed, KeyAboveRevoker),
)
async def revoke_api_key(
    key_id: UUID, principal: ApiKeysWrite, session: DbSession, runtime: RuntimeDep
) -> schemas.ApiKey:
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    return _out(await service.revoke(principal, key_id), runtime)
