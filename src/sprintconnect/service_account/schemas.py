"""Request and response models for service accounts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sprintconnect.kit.text import has_control_chars
from sprintconnect.role.schemas import ROLE_NAME_PATTERN

AccountStatus = Literal["active", "disabled"]


def _printable(value: str | None) -> str | None:
    if value is not None and has_control_chars(value):
        raise ValueError("must be printable text")
    return value


def _role_names(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    bad = [v for v in value if not re.match(ROLE_NAME_PATTERN, v)]
    if bad:
        raise ValueError(f"not role names: {', '.join(bad)}")
    return sorted(set(value))


class ServiceAccount(BaseModel):
    """A service account as the API shows it: never its secret."""

    id: UUID
    client_id: str = Field(description="The OAuth `client_id` for `POST /oauth/token`.")
    name: str
    description: str | None
    roles: list[str]
    user_id: UUID = Field(
        description="The user the account acts as: a member of this organization with the "
        "account's roles, so every permission and policy applies to it as to a member."
    )
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None
    last_used_at: datetime | None = Field(
        description="When a token was last issued to it (at most once a minute)."
    )


class ServiceAccountCreated(BaseModel):
    service_account: ServiceAccount
    client_secret: str = Field(
        description="Shown this once; only its HMAC is stored. Rotate it to get a new one."
    )


class _Checked(BaseModel):
    """Names and descriptions printable, roles well-formed (both create and update); the
    fields themselves are declared by each subclass."""

    @field_validator("name", "description", check_fields=False)
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return _printable(value)

    @field_validator("roles", check_fields=False)
    @classmethod
    def _roles(cls, value: list[str] | None) -> list[str] | None:
        return _role_names(value)


class ServiceAccountCreate(_Checked):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "deploy-bot", "description": "CI", "roles": ["engineer"]}]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    roles: list[str] = Field(default_factory=list, max_length=20)


class ServiceAccountUpdate(_Checked):
    """Fields to change; absent ones stay. ``roles`` replaces the whole set."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    roles: list[str] | None = Field(default=None, max_length=20)
    disabled: bool | None = Field(
        default=None, description="true: no new tokens, and its live tokens are refused."
    )
