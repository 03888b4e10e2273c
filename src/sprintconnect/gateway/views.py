"""Toolsets and measured calls as the API shows them."""

from __future__ import annotations

from uuid import UUID

from sprintconnect.gateway.exposure import Exposure
from sprintconnect.gateway.schemas import (
    CallOut,
    ExposedTool,
    ExposedTools,
    ToolsetOut,
    ToolsetServerOut,
)
from sprintconnect.models import McpServer, ToolCall, Toolset


def endpoint_path(org_slug: str, name: str) -> str:
    return f"/mcp/{org_slug}/{name}"


def toolset_out(toolset: Toolset, org_slug: str, servers: dict[UUID, McpServer]) -> ToolsetOut:
    return ToolsetOut(
        id=toolset.id,
        name=toolset.name,
        description=toolset.description,
        endpoint=endpoint_path(org_slug, toolset.name),
        servers=[
            ToolsetServerOut(
                server_id=m.server_id,
                server_name=servers[m.server_id].name if m.server_id in servers else None,
                tools=m.tools,
                prefix=m.prefix,
                prompts=m.prompts,
                resources=m.resources,
                rename=m.renames,
                classes=m.classes,
            )
            for m in toolset.members
        ],
        timeout_seconds=toolset.timeout_seconds,
        created_at=toolset.created_at,
        updated_at=toolset.updated_at,
    )


def exposed_out(exposure: Exposure) -> ExposedTools:
    return ExposedTools(
        tools=[
            ExposedTool(
                name=e.name,
                server_id=e.server.id,
                server_name=e.server.name,
                upstream_name=e.item.name,
                capability_class=e.capability_class,
                description=e.item.description,
                renamed_for_collision=e.collided,
            )
            for e in exposure.tools.values()
        ],
        missing=exposure.missing,
    )


def call_out(row: ToolCall) -> CallOut:
    return CallOut(
        id=row.id,
        at=row.at,
        source=row.source,
        server_id=row.server_id,
        toolset_id=row.toolset_id,
        kind=row.kind,
        name=row.name,
        status=row.status,
        error_class=row.error_class,
        latency_ms=row.latency_ms,
        request_bytes=row.request_bytes,
        response_bytes=row.response_bytes,
        est_tokens=row.est_tokens,
    )
