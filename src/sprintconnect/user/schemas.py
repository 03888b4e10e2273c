"""Request and response models for organization members."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sprintconnect.kit.text import has_control_chars, normalize_email
from sprintconnect.role.schemas import ROLE_NAME_PATTERN


class Member(BaseModel):
    """A user of this organization and the roles they hold here."""

    user_id: UUID
    email: str
    display_name: str | None
    roles: list[str]
    joined_at: datetime


class MemberCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "dana@example.com", "display_name": "Dana", "roles": ["viewer"]}]
        },
    )

    email: str = Field(max_length=320)
    display_name: str | None = Field(default=None, max_length=200)
    roles: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is not None and has_control_chars(value):
            raise ValueError("must be printable text")
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.match(ROLE_NAME_PATTERN, v)]
        if bad:
            raise ValueError(f"not role names: {', '.join(bad)}")
        return sorted(set(value))
