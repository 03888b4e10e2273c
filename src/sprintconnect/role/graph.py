"""Role inheritance: expanding a role to its permissions, and refusing cycles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sprintconnect.authz.permissions import BUILT_IN_ROLES


@dataclass(frozen=True)
class RoleNode:
    name: str
    permissions: frozenset[str]
    extends: tuple[str, ...]


def nodes(custom: Sequence[RoleNode]) -> dict[str, RoleNode]:
    graph = {name: RoleNode(name, perms, ()) for name, perms in BUILT_IN_ROLES.items()}
    graph.update({node.name: node for node in custom})
    return graph


def find_cycle(graph: Mapping[str, RoleNode], start: str) -> list[str] | None:
    """A path from ``start`` back to itself through ``extends``, if there is one."""
    path: list[str] = []

    def visit(name: str, seen: frozenset[str]) -> list[str] | None:
        path.append(name)
        for parent in graph[name].extends if name in graph else ():
            if parent == start:
                return [*path, parent]
            if parent not in seen:
                found = visit(parent, seen | {parent})
                if found:
                    return found
        path.pop()
        return None

    return visit(start, frozenset({start}))


def effective(graph: Mapping[str, RoleNode], name: str) -> frozenset[str]:
    """Everything a role grants, through every role it extends."""
    granted: set[str] = set()
    stack, seen = [name], set()
    while stack:
        current = stack.pop()
        if current in seen or current not in graph:
            continue
        seen.add(current)
        granted |= graph[current].permissions
        stack.extend(graph[current].extends)
    return frozenset(granted)
