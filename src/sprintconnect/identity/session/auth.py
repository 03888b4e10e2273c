"""Authenticating a request by its browser session cookie (placeholder until sign-in lands)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.errors import InvalidCredentials
from sprintconnect.identity.principal import Principal
from sprintconnect.runtime import Runtime


def session_cookie(request: Request) -> str | None:
    """The session cookie's value, if the request carries one."""
    return None


async def authenticate_session(
    request: Request, runtime: Runtime, session: AsyncSession, cookie: str
) -> Principal:
    raise InvalidCredentials("Browser sessions are not available yet.")
