"""Response models for discoveries and capability snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, computed_field


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
    discovery_id: UUID = Field(description="The same as `id`, named as registration names it.")
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
            "job_discarded",
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

    @computed_field(  # type: ignore[prop-decorator]
        description="Items the server listed that the MCP SDK refuses (e.g. a tool whose "
        "`inputSchema` is not an object schema), with the reason. They are not among the "
        "snapshot's items; the rest of the listing is."
    )
    @property
    def invalid_items(self) -> list[InvalidItem]:
        return [InvalidItem.model_validate(i) for i in self.truncation.get("invalid_items", [])]


class InvalidItem(BaseModel):
    """A listed item that was refused, and why."""

    kind: Literal["tool", "resource", "resource_template", "prompt"]
    name: str = Field(description="Its name (or URI), or `#<index>` in the page if it had none.")
    reason: str


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
