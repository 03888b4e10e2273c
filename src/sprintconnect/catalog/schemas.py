"""Request parameters and answers of the capability search."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from sprintconnect.health.schemas import HealthStatus
from sprintconnect.mcp_server.schemas import Server

Kind = Literal["tool", "resource", "resource_template", "prompt"]
Match = Literal["exact", "words", "fuzzy"]


class MatchedCapability(BaseModel):
    kind: Kind
    name: str
    title: str | None
    description: str | None
    definition: dict[str, Any] | None = Field(
        description="Schemas and annotations as listed; `null` only when a policy redacts it."
    )
    snapshot_version: int
    score: float = Field(
        description="1.0 for the exact name. `words`: 0.6 to 1.0 when the name holds the "
        "term's words (higher the fewer other words it has), 0.3 to 0.5 for a description "
        "match (full-text rank). `fuzzy`: 0.9 for a substring of the name, trigram word "
        "similarity for typos, 0.6 for a description containing the term."
    )
    matched_term: str
    matched_on: Literal["name", "description"] = Field(
        description="What the term matched: the capability's name or its description."
    )
    redacted: list[str] = Field(
        default_factory=list,
        description="Fields an organization policy's `redact:` obligation removed (set to "
        "`null`): `title`, `description` or `definition`.",
    )


class Health(BaseModel):
    """The server's health as of its last check (`unknown` before the first one)."""

    status: HealthStatus = "unknown"
    last_check_at: datetime | None = None
    response_ms: float | None = Field(default=None, description="The last check's response time.")
    last_checked_at: datetime | None = Field(
        default=None, deprecated=True, description="Deprecated: `last_check_at`, the same value."
    )


class SearchResult(BaseModel):
    server: Server
    score: float = Field(
        description="The mean over the searched terms of each term's best capability score."
    )
    capabilities: list[MatchedCapability]
    health: Health


class SearchMeta(BaseModel):
    """Always present, also when nothing matched."""

    query: dict[str, Any] = Field(description="The query as normalized.")
    filters: dict[str, Any]
    total: int = Field(description="Servers that matched and that you may see.")
    removed_by_policy: int = Field(description="Matches your access rules hid (how many only).")
    took_ms: float
    cached: bool
    fuzzy_engine: Literal["trigram", "none"] = Field(
        description="Deprecated: `trigram` for `match=fuzzy`, `none` otherwise; "
        "`query.match` says the mode."
    )


class SearchPage(BaseModel):
    items: list[SearchResult]
    next_cursor: str | None
    search: SearchMeta


class SearchCursor(BaseModel):
    offset: int
    digest: str
    server_id: UUID | None = None
