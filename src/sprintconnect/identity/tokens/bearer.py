"""Authenticating a request by an access token (placeholder until the token service lands)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.errors import InvalidCredentials
from sprintconnect.identity.principal import Principal
from sprintconnect.runtime import Runtime


async def authenticate_token(
    request: Request, runtime: Runtime, session: AsyncSession, token: str, *, scheme: str
) -> Principal:
    raise InvalidCredentials("Access tokens are not accepted yet.")
