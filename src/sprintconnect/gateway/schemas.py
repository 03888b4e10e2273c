"""Request and response models of toolsets and calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Toolset names are one URL path segment: lowercase letters, digits and dashes.
TOOLSET_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
# MCP tool names: letters, digits, '_', '-', '.' (1 to 128 characters).
TOOL_NAME = r"^[A-Za-z0-9_.-]{1,128}$"
PREFIX = r"^[A-Za-z0-9_.-]{1,64}$"
CapabilityClassName = Literal["read", "write", "expensive"]


class ToolsetServerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server_id: UUID
    tools: list[str] | None = Field(
        default=None,
        max_length=500,
        description="The tools exposed; null: every tool of the server's latest snapshot "
        "(new tools appear as discovery finds them).",
    )
    prefix: str | None = Field(
        default=None,
        pattern=PREFIX,
        description="Prepended to every exposed tool and prompt name of this server, e.g. "
        "`github_`.",
    )
    prompts: bool = Field(default=True, description="Expose the server's prompts too.")
    resources: bool = Field(
        default=True, description="Expose the server's resources and resource templates too."
    )
    rename: dict[str, str] = Field(
        default_factory=dict,
        max_length=500,
        description="Upstream tool name -> the name clients see (the prefix is not added to "
        "a renamed tool).",
    )
    classes: dict[str, CapabilityClassName] = Field(
        default_factory=dict,
        max_length=500,
        description="Upstream tool name -> capability class for rate limits. Unlisted tools are "
        "`read` when annotated `readOnlyHint`, else `write`.",
    )

    @model_validator(mode="after")
    def _names(self) -> ToolsetServerIn:
        import re

        for label, names in (
            ("tools", self.tools or []),
            ("rename", [*self.rename, *self.rename.values()]),
            ("classes", list(self.classes)),
        ):
            for name in names:
                if not re.fullmatch(TOOL_NAME, name):
                    raise ValueError(
                        f"{label}: {name[:80]!r} is not a tool name (1 to 128 letters, digits, "
                        "'_', '-' or '.')"
                    )
        return self


class ToolsetCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "support-agent",
                    "description": "What the support agent may use",
                    "servers": [
                        {
                            "server_id": "4f7c6b8e-2a59-4a55-9a51-0d5f1b6c2e11",
                            "tools": ["search_tickets", "get_ticket"],
                            "prefix": "tickets_",
                        },
                        {
                            "server_id": "a1d9e3f0-7b2c-4a4e-8f61-2c3b4d5e6f70",
                            "classes": {"run_report": "expensive"},
                        },
                    ],
                    "timeout_seconds": 30,
                }
            ]
        },
    )

    name: str = Field(pattern=TOOLSET_NAME, description="Its endpoint is /mcp/{org slug}/{name}.")
    description: str | None = Field(default=None, max_length=2000)
    servers: list[ToolsetServerIn] = Field(max_length=100)
    timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Deadline of one upstream call (capped by the platform's maximum).",
    )


class ToolsetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=2000)
    servers: list[ToolsetServerIn] | None = Field(default=None, max_length=100)
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600)


class ToolsetServerOut(BaseModel):
    server_id: UUID
    server_name: str | None = Field(description="Null when the server is no longer visible.")
    tools: list[str] | None
    prefix: str | None
    prompts: bool
    resources: bool
    rename: dict[str, str]
    classes: dict[str, str]


class ToolsetOut(BaseModel):
    id: UUID
    name: str
    description: str | None
    endpoint: str = Field(description="The MCP endpoint's path (streamable HTTP).")
    servers: list[ToolsetServerOut]
    timeout_seconds: float | None
    created_at: datetime
    updated_at: datetime


class ToolsetPage(BaseModel):
    items: list[ToolsetOut]
    next_cursor: str | None


class ExposedTool(BaseModel):
    name: str = Field(description="The name MCP clients see.")
    server_id: UUID
    server_name: str
    upstream_name: str
    capability_class: str
    description: str | None
    renamed_for_collision: bool = Field(
        description="True when another server of the toolset exposes the same name first, so "
        "this one is shown as `<server name>_<name>`."
    )


class ExposedTools(BaseModel):
    tools: list[ExposedTool]
    missing: list[dict[str, str]] = Field(
        description="Tools a toolset lists that the server's latest snapshot lacks."
    )


class InvokeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"arguments": {"city": "Berlin"}, "timeout_seconds": 20}]},
    )

    arguments: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: float | None = Field(
        default=None, gt=0, le=3600, description="Capped by the platform's maximum."
    )


class PromptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: dict[str, str] = Field(default_factory=dict, max_length=200)
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600)


class ResourceReadRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"uri": "file:///docs/readme.md"}]}
    )

    uri: str = Field(min_length=1, max_length=4096)
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600)


class InvocationOut(BaseModel):
    """What a call returned, as the server sent it (minus policy redactions), and its cost."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "server_id": "4f7c6b8e-2a59-4a55-9a51-0d5f1b6c2e11",
                    "kind": "tool",
                    "name": "echo",
                    "status": "ok",
                    "is_error": False,
                    "result": {"content": [{"type": "text", "text": "hello"}]},
                    "duration_ms": 4.2,
                    "request_bytes": 17,
                    "response_bytes": 44,
                    "estimated_tokens": 16,
                    "capability_class": "write",
                    "decision_id": "5b0c1d7e9a3f4e21",
                    "redacted": [],
                }
            ]
        }
    )

    server_id: UUID
    kind: Literal["tool", "resource", "prompt"]
    name: str
    status: Literal["ok", "tool_error"]
    is_error: bool = Field(description="The tool reported a failure of its own (`isError`).")
    result: dict[str, Any] = Field(
        description="The MCP result: `content` and `structuredContent` for a tool, `contents` "
        "for a resource, `messages` for a prompt."
    )
    duration_ms: float
    request_bytes: int
    response_bytes: int
    estimated_tokens: int = Field(description="An estimate: about four bytes per token.")
    capability_class: str
    decision_id: str | None
    redacted: list[str] = Field(description="Result paths a policy removed.")


class CallOut(BaseModel):
    id: int
    at: datetime
    source: Literal["gateway", "playground"]
    server_id: UUID | None
    toolset_id: UUID | None
    kind: str
    name: str
    status: str
    error_class: str | None
    latency_ms: float
    request_bytes: int
    response_bytes: int
    est_tokens: int


class CallPage(BaseModel):
    items: list[CallOut]
    next_cursor: str | None
