"""Response models for discoveries and capability snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class DiscoveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force_refresh: bool = Field(
        default=False,
        description="Clear the server's current capability view and record a new snapshot "
        "even if nothing changed.",
    )


class DiscoveryOut(BaseModel):
    """A discovery's progress; failures carry a classified reason and what to do about it."""

    id: UUID
    server_id: UUID
    status: Literal["queued", "in_progress", "succeeded", "failed", "timed_out"]
    phase: str | None
    force_refresh: bool
    outcome: Literal["first", "changed", "unchanged", "refreshed"] | None
    snapshot_version: int | None
    reason: (
        Literal[
            "dns",
            "connection_refused",
            "tls",
            "auth_rejected",
            "protocol_error",
            "timeout",
            "egress_denied",
            "unknown",
        ]
        | None
    )
    error: str | None
    guidance: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    estimated_completion_at: datetime | None


class CapabilityOut(BaseModel):
    kind: Literal["tool", "resource", "resource_template", "prompt"]
    name: str
    title: str | None
    description: str | None
    definition: dict[str, Any] = Field(
        description="The item as the server listed it: schemas, annotations and all."
    )


class SnapshotSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    digest: str
    protocol_version: str | None
    server_info: dict[str, Any]
    counts: dict[str, int]
    diff: dict[str, Any] | None = Field(description="Changes against the previous version.")
    truncation: dict[str, Any] = Field(description="What was dropped, cut or found invalid.")
    created_at: datetime
    last_confirmed_at: datetime


class Capabilities(BaseModel):
    server_id: UUID
    snapshot: SnapshotSummary
    capabilities: dict[str, Any]
    items: list[CapabilityOut]


class SnapshotDiff(BaseModel):
    server_id: UUID
    from_version: int
    to_version: int
    added: list[dict[str, str]]
    removed: list[dict[str, str]]
    modified: list[dict[str, Any]]
    unchanged: int
    server_changed: list[str]
