"""Response models for identity endpoints."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel


class Me(BaseModel):
    """Who the credentials in this request belong to."""

    org_id: UUID
    org_name: str
    org_slug: str
    user_id: UUID | None
    api_key_id: UUID | None
    scopes: list[str]
    permissions: list[str]
    roles: list[str]
    policy_version: int
