"""Request and response models for API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sprintconnect.identity.scopes import unknown_scopes
from sprintconnect.kit.input import UtcDatetime
from sprintconnect.kit.text import has_control_chars

DEFAULT_LIFETIME_DAYS = 90
KeyStatus = Literal["active", "expired", "revoked"]


def key_status(key: Any, now: datetime) -> KeyStatus:
    """A stored key's status at ``now``: revoked, expired, or active."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


class ApiKey(BaseModel):
    """An API key as the API shows it: never the key itself."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    description: str | None
    prefix: str = Field(
        description="The public part of the key, `sc_<prefix>_…`, for telling keys apart."
    )
    scopes: list[str]
    status: KeyStatus
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(
        description="When the key was last used (updated at most once a minute)."
    )
    kind: Literal["user", "service"] = Field(
        description="`user`: owned by a member, acts with at most what they hold, and is "
        "revoked when they leave. `service`: owned by no one, issued by an operator, acts "
        "with its scopes."
    )
    created_by_user_id: UUID | None = Field(
        description="The member who owns the key; null exactly for service keys."
    )

    @classmethod
    def of(cls, key: Any, now: datetime) -> ApiKey:
        """The API's view of a stored key, its status as of ``now``."""
        fields = {c: getattr(key, c) for c in cls.model_fields if c != "status"}
        return cls.model_validate({**fields, "status": key_status(key, now)})


class ApiKeyCreate(BaseModel):
    """A new API key. Without an expiry it lives 90 days; `never_expires` must be explicit."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "ci-pipeline",
                    "description": "GitHub Actions",
                    "scopes": ["servers:read"],
                    "expires_in_days": 30,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    scopes: list[str] = Field(min_length=1, max_length=64)
    expires_at: UtcDatetime | None = Field(
        default=None, description="With a time zone, e.g. 2027-01-01T00:00:00Z; stored in UTC."
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    never_expires: bool = False

    @field_validator("name")
    @classmethod
    def _name_printable(cls, value: str) -> str:
        value = value.strip()
        if not value or has_control_chars(value):
            raise ValueError("must be printable text")
        return value

    @field_validator("description")
    @classmethod
    def _description_printable(cls, value: str | None) -> str | None:
        if value is not None and has_control_chars(value.replace("\n", "").replace("\t", "")):
            raise ValueError("must be printable text")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes_known(cls, value: list[str]) -> list[str]:
        unknown = unknown_scopes(value)
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        return sorted(set(value))

    @model_validator(mode="after")
    def _one_expiry(self) -> ApiKeyCreate:
        given = [self.expires_at is not None, self.expires_in_days is not None, self.never_expires]
        if sum(given) > 1:
            raise ValueError("give at most one of expires_at, expires_in_days, never_expires")
        return self

    def expiry(self, now: datetime) -> datetime | None:
        """When the key expires: as given, or 90 days from ``now`` unless `never_expires`."""
        if self.expires_in_days is not None:
            return now + timedelta(days=self.expires_in_days)
        if self.expires_at is None and not self.never_expires:
            return now + timedelta(days=DEFAULT_LIFETIME_DAYS)
        return self.expires_at


class ApiKeyCreated(BaseModel):
    """The new key. `key` is shown this once and cannot be recovered."""

    api_key: ApiKey
    key: str = Field(description="The secret key; store it now, it is never shown again.")
