"""Request and response models for an organization's own settings."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sprintconnect.egress import parse_allowlist


class OrganizationOut(BaseModel):
    id: UUID
    name: str
    slug: str
    time_zone: str = Field(description="Time windows in policies are read in this zone.")
    egress_allowlist: list[str] = Field(
        description="When not empty, outbound requests may reach only these hosts (`*.domain` "
        "allowed), addresses and CIDRs; the platform's deny list applies all the same."
    )
    server_quota: int | None = Field(description="Null: the platform default.")
    created_at: datetime


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"time_zone": "Europe/Berlin", "egress_allowlist": ["*.example.com"]}]
        },
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    egress_allowlist: list[str] | None = Field(default=None, max_length=200)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not a known IANA time zone, e.g. Europe/Berlin") from exc
        return value

    @field_validator("egress_allowlist")
    @classmethod
    def _allowlist(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        entries = sorted({v.strip() for v in value if v.strip()})
        if any(len(e) > 253 for e in entries):
            raise ValueError("entries are at most 253 characters")
        parse_allowlist(entries)  # its ValueError names the bad entry
        return entries
