"""Request parameters and answers of the capability search."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from sprintconnect.mcp_server.schemas import Server

Kind = Literal["tool", "resource", "resource_template", "prompt"]


class MatchedCapability(BaseModel):
    kind: Kind
    name: str
    title: str | None
    description: str | None
    definition: dict[str, Any] = Field(description="Schemas and annotations as listed.")
    snapshot_version: int
    score: float
    matched_term: str


class Health(BaseModel):
    status: Literal["healthy", "unhealthy", "unknown"] = "unknown"
    last_checked_at: str | None = None


class SearchResult(BaseModel):
    server: Server
    score: float = Field(description="1.0 for exact matches; relevance for fuzzy ones.")
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
    fuzzy_engine: Literal["trigram", "application", "none"]


class SearchPage(BaseModel):
    items: list[SearchResult]
    next_cursor: str | None
    search: SearchMeta


class SearchCursor(BaseModel):
    offset: int
    digest: str
    server_id: UUID | None = None
