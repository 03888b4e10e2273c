"""Response models for identity endpoints."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel


class Me(BaseModel):
    """Who the credentials in this request belong to."""

    org_id: UUID
    org_name: str
    org_slug: str
    user_id: UUID | None
    # The user's email and name in the organization (from sign-in claims or the members API).
    email: str | None
    name: str | None
    # How this request authenticated: an API key, a browser session, or an access token.
    credential: Literal["api_key", "session", "token"]
    api_key_id: UUID | None
    # A service account acting through an access token.
    service_account_id: UUID | None
    scopes: list[str]
    permissions: list[str]
    roles: list[str]
    policy_version: int
    # A platform operator: may use the platform views (jobs and dead letters).
    super_admin: bool = False
