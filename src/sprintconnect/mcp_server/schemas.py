"""Request and response models for MCP servers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sprintconnect.discovery.schemas import DiscoveryOut
from sprintconnect.health.schemas import HealthSettings, ServerHealthSummary
from sprintconnect.kit.text import has_control_chars
from sprintconnect.mcp_server.auth_schemas import AuthSettings, AuthSummary, NoAuth

ENVIRONMENT_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"
TAG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
Transport = Literal["streamable_http", "sse"]
Status = Literal["pending_discovery", "active", "discovery_failed"]
Tag = Annotated[str, Field(pattern=TAG_PATTERN)]


def _printable(value: str | None) -> str | None:
    if value is not None and has_control_chars(value.replace("\n", "").replace("\t", "")):
        raise ValueError("must be printable text")
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value or has_control_chars(value):
        raise ValueError("must be 1 to 100 printable characters")
    return value


class Server(BaseModel):
    """A registered MCP server. `auth` says which credentials are set, never their values."""

    id: UUID
    name: str
    description: str | None
    url: str | None = Field(description="`null` only when a policy redacts it (see `redacted`).")
    transport: Transport
    environment: str
    tags: list[str] | None = Field(
        description="`null` only when a policy redacts them (see `redacted`)."
    )
    status: Status
    auth: AuthSummary | None = Field(
        description="`null` only when a policy redacts it (see `redacted`)."
    )
    health_check_interval_seconds: int = Field(
        description="Deprecated: `health.interval_seconds`, the same value.",
        json_schema_extra={"deprecated": True},
    )
    health: ServerHealthSummary
    auto_discover: bool
    last_discovered_at: datetime | None = Field(
        description="When a discovery last finished; `null` before the first."
    )
    created_at: datetime
    updated_at: datetime
    created_by_user_id: UUID | None
    redacted: list[str] = Field(
        default_factory=list,
        description="Fields an organization policy's `redact:` obligation removed from this "
        "answer (set to `null`), e.g. `url` or `auth.client_id`.",
    )


class ServerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "weather",
                    "url": "https://mcp.example.com/mcp",
                    "environment": "production",
                    "tags": ["public", "weather"],
                    "description": "Forecasts and current conditions",
                    "auth": {"type": "bearer", "token": "s3cr3t"},
                    "health": {"interval_seconds": 300, "check_type": "ping"},
                    "auto_discover": True,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2048)
    transport: Transport = "streamable_http"
    environment: str = Field(default="development", pattern=ENVIRONMENT_PATTERN)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    description: str | None = Field(default=None, max_length=2000)
    auth: AuthSettings = Field(default_factory=NoAuth)
    health_check_interval_seconds: int | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="Deprecated alias of `health.interval_seconds`.",
        json_schema_extra={"deprecated": True},
    )
    health: HealthSettings | None = Field(
        default=None, description="How the server is checked; defaults: every 300 s, `ping`."
    )
    auto_discover: bool = True

    _name = field_validator("name")(_name)
    _description = field_validator("description")(_printable)

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class ServerUpdate(BaseModel):
    """Fields to change; `auth` replaces the credentials (write-only)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    transport: Transport | None = None
    environment: str | None = Field(default=None, pattern=ENVIRONMENT_PATTERN)
    tags: list[Tag] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=2000)
    auth: AuthSettings | None = None
    health_check_interval_seconds: int | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="Deprecated alias of `health.interval_seconds`.",
        json_schema_extra={"deprecated": True},
    )
    health: HealthSettings | None = Field(
        default=None, description="Changes to how the server is checked (partial)."
    )
    auto_discover: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    _description = field_validator("description")(_printable)

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted(set(value))


class ServerRegistered(BaseModel):
    """The new server, and what happens next."""

    server: Server
    discovery_id: UUID | None = Field(
        description="The discovery that registration queued (`auto_discover`); null when none "
        "was. Follow it at `GET /api/v1/discoveries/{discovery_id}`."
    )
    discovery: DiscoveryOut | None = Field(
        default=None,
        description="With `wait=true`: the discovery as it was when the answer was made "
        "(finished, unless the answer is `202`). Null otherwise.",
    )
    next_steps: list[str]


class ServerPage(BaseModel):
    items: list[Server]
    next_cursor: str | None
    removed_by_policy: int = Field(
        description="How many servers on this page your organization's policies hid."
    )


class ConnectionCheck(BaseModel):
    """The outcome of connecting to a server and running `initialize`."""

    ok: bool
    latency_ms: float
    protocol_version: str | None = None
    server_name: str | None = None
    server_version: str | None = None
    error: str | None = None
    reason: str | None = None
