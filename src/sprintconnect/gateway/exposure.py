"""What a toolset exposes: exposed names for its servers' tools, prompts and resources.

Rules, in the order of the toolset's servers: a renamed tool takes its new name, any other
takes the server's prefix (if any) and its own name. A name another server already took is
shown as ``<server name>_<name>`` (and flagged); one still taken after that is left out. Prompts
(unless a server's ``prompts`` is off) follow the same rules; resources (unless ``resources``
is off) keep their URIs, the first server listing a URI serving it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from uuid import UUID

from sprintconnect.gateway.calls import Kind, capability_class
from sprintconnect.models import CapabilityItem, McpServer, Toolset

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Exposed:
    name: str
    server: McpServer
    item: CapabilityItem
    capability_class: str
    collided: bool = False

    @property
    def kind(self) -> Kind:
        return (
            "tool"
            if self.item.kind == "tool"
            else "prompt"
            if self.item.kind == "prompt"
            else "resource"
        )


@dataclass
class Exposure:
    tools: dict[str, Exposed] = field(default_factory=dict)
    prompts: dict[str, Exposed] = field(default_factory=dict)
    resources: dict[str, Exposed] = field(default_factory=dict)
    templates: list[Exposed] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    collisions: list[dict[str, str]] = field(default_factory=list)

    def resource_for(self, uri: str) -> Exposed | None:
        """The server that lists ``uri``, or whose URI template's fixed start matches it."""
        exact = self.resources.get(uri)
        if exact is not None:
            return exact
        for template in self.templates:
            pattern = str(template.item.body.get("uriTemplate") or "")
            head = pattern.split("{", 1)[0]
            if head and uri.startswith(head):
                return template
        return None


def qualified(server: McpServer, name: str) -> str:
    return _UNSAFE.sub("_", f"{server.name}_{name}")[:128]


def expose(
    toolset: Toolset, servers: dict[UUID, McpServer], items: list[CapabilityItem]
) -> Exposure:
    by_server: dict[UUID, list[CapabilityItem]] = {}
    for item in items:
        by_server.setdefault(item.server_id, []).append(item)
    out = Exposure()
    for member in toolset.members:
        server = servers.get(member.server_id)
        if server is None:
            continue
        mine = by_server.get(server.id, [])
        tools = {i.name: i for i in mine if i.kind == "tool"}
        wanted = list(tools) if member.tools is None else list(member.tools)
        for name in wanted:
            found = tools.get(name)
            if found is None:
                out.missing.append({"server_id": str(server.id), "tool": name})
                continue
            item = found
            shown = member.renames.get(name) or f"{member.prefix or ''}{name}"
            _place(
                out.tools,
                out.collisions,
                shown,
                server,
                item,
                capability_class(item, "tool", member.classes.get(name)),
            )
        for item in mine:
            if item.kind == "prompt" and member.prompts:
                # Prompt names that collide are qualified too, but never refuse a toolset.
                _place(out.prompts, [], f"{member.prefix or ''}{item.name}", server, item, "read")
            elif item.kind == "resource" and member.resources:
                uri = str(item.body.get("uri") or item.name)
                out.resources.setdefault(uri, Exposed(uri, server, item, "read"))
            elif item.kind == "resource_template" and member.resources:
                out.templates.append(Exposed(item.name, server, item, "read"))
    return out


def _place(
    into: dict[str, Exposed],
    collisions: list[dict[str, str]],
    shown: str,
    server: McpServer,
    item: CapabilityItem,
    klass: str,
) -> None:
    if shown not in into:
        into[shown] = Exposed(shown, server, item, klass)
        return
    other = qualified(server, shown)
    collisions.append({"name": shown, "server_id": str(server.id), "shown_as": other})
    if other not in into:
        into[other] = Exposed(other, server, item, klass, collided=True)
