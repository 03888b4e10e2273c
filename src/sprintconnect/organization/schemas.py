"""Request and response models for an organization's own settings."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sprintconnect.egress import parse_allowlist
from sprintconnect.gateway.limits import valid_limit
from sprintconnect.kit.sensitive import MAX_FIELDS, normalize_fields


def _limit(value: str | None) -> str | None:
    if value is not None and not valid_limit(value):
        raise ValueError("not a rate limit; write it like '100/minute' or '10 per second'")
    return value


class GatewayLimits(BaseModel):
    read: str
    write: str
    expensive: str


class GatewayLimitsUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"write": "60/minute", "expensive": "5/minute"}]},
    )

    read: str | None = Field(default=None, max_length=64)
    write: str | None = Field(default=None, max_length=64)
    expensive: str | None = Field(default=None, max_length=64)

    _check = field_validator("read", "write", "expensive")(_limit)


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
    health_min_interval_seconds: int = Field(
        description="The shortest health check interval a server may have here (a platform "
        "quota: the operator's to set)."
    )
    health_failure_threshold: int = Field(
        description="Consecutive failed checks after which a server is `degraded`."
    )
    health_degraded_after_seconds: int = Field(
        description="Seconds unhealthy after which a server is `degraded`."
    )
    audit_sensitive_fields: list[str] = Field(
        description="JSON keys (at any depth) or dotted paths from the root of an audit "
        "entry's details whose values the audit log keeps only as `[redacted:<8 hex>]`, a "
        "keyed digest: equal values still match in a search, the value is never stored."
    )
    gateway_limits: GatewayLimits = Field(
        description="Rate limits of gateway and playground calls per capability class and "
        "caller, in effect (the organization's own or the platform's defaults)."
    )
    created_at: datetime


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "time_zone": "Europe/Berlin",
                    "egress_allowlist": ["*.example.com"],
                    "health_failure_threshold": 3,
                    "health_degraded_after_seconds": 900,
                    "audit_sensitive_fields": ["email", "details.headers.authorization"],
                }
            ]
        },
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    egress_allowlist: list[str] | None = Field(default=None, max_length=200)
    health_failure_threshold: int | None = Field(
        default=None, ge=1, le=1000, description="Servers may override it (`health` block)."
    )
    health_degraded_after_seconds: int | None = Field(
        default=None, ge=1, le=30 * 86_400, description="Servers may override it."
    )
    audit_sensitive_fields: list[str] | None = Field(
        default=None,
        max_length=MAX_FIELDS,
        description="Replaces the list. Applies to entries written from then on; entries "
        "already written keep what they hold (the log is append-only).",
    )

    gateway_limits: GatewayLimitsUpdate | None = Field(
        default=None,
        description="Per capability class; a class left out keeps its limit, an empty string "
        "removes the limit, null returns to the platform's default.",
    )

    @field_validator("audit_sensitive_fields")
    @classmethod
    def _sensitive(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalize_fields(value)

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
