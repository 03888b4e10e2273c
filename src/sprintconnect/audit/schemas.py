"""What the audit log's read API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from sprintconnect.audit.query import Outcome

_EXAMPLE_ID = "0b9a4a57-3c8e-4d6c-9f57-1a2b3c4d5e6f"


class AuditActor(BaseModel):
    type: str = Field(description="`user`, `api_key`, `system`, `anonymous`, ...")
    id: str | None = None
    display: str | None = Field(
        default=None,
        description="A user's name or email, or an API key's name and prefix, when still known.",
    )
    user_id: str | None = Field(
        default=None, description="The user behind the actor (an API key's owner), when known."
    )
    super_admin: bool = Field(default=False, description="The actor was a platform operator.")


class AuditTarget(BaseModel):
    type: str
    id: str | None = None


class AuditEntry(BaseModel):
    """One audit log entry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _EXAMPLE_ID,
                    "seq": 1042,
                    "occurred_at": "2026-11-28T10:15:02.123456Z",
                    "action": "org:server:registered",
                    "actor": {
                        "type": "api_key",
                        "id": "5f0c1d2e-8a9b-4c3d-9e8f-7a6b5c4d3e2f",
                        "display": "deploy key (sc_ab12cd34ef56)",
                        "user_id": "7d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
                        "super_admin": False,
                    },
                    "target": {"type": "mcp_server", "id": "3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d"},
                    "outcome": "success",
                    "request_id": "req_01JDX9Q7",
                    "ip": "203.0.113.7",
                    "user_agent": "curl/8.5.0",
                    "details": {"name": "weather-eu", "environment": "production"},
                    "leaf_index": None,
                }
            ]
        }
    )

    id: UUID
    seq: int = Field(description="The entry's position in the platform-wide append order.")
    occurred_at: datetime
    action: str = Field(description="The audit tag, `subject:object:action`.")
    actor: AuditActor
    target: AuditTarget | None
    outcome: Outcome
    request_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]
    leaf_index: int | None = Field(
        default=None,
        description="The entry's leaf in the organization's Merkle tree; null until sequenced.",
    )


class PlatformAuditEntry(BaseModel):
    """One entry of the platform's own audit stream (what platform operators did)."""

    id: UUID
    seq: int
    occurred_at: datetime
    action: str
    actor: AuditActor
    target: AuditTarget | None
    outcome: Outcome
    request_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]


ExportFormat = Literal["ndjson", "json", "csv"]
