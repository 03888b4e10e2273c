"""Capability items, their digests, and diffs between two sets of them (pure functions)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("tool", "resource", "resource_template", "prompt")
# The field that names an item of each kind (resources are known by their URI).
KEY_FIELD = {
    "tool": "name",
    "resource": "uri",
    "resource_template": "uriTemplate",
    "prompt": "name",
}


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


@dataclass(frozen=True)
class Item:
    kind: str
    name: str
    title: str | None
    description: str | None
    body: dict[str, Any]
    digest: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


def make_item(kind: str, body: dict[str, Any], *, max_bytes: int) -> tuple[Item, list[str]]:
    """An item from a listing entry; fields too large to keep are replaced by a marker."""
    notes: list[str] = []
    body = dict(body)
    if len(canonical(body)) > max_bytes:
        for field in sorted(body, key=lambda f: -len(canonical(body[f]))):
            if field in (KEY_FIELD[kind], "name"):
                continue
            size = len(canonical(body[field]))
            body[field] = {"x-sprintconnect-truncated": True, "bytes": size}
            notes.append(field)
            if len(canonical(body)) <= max_bytes:
                break
    name = str(body.get(KEY_FIELD[kind]) or body.get("name") or "")[:2000]
    description = body.get("description")
    title = body.get("title")
    return (
        Item(
            kind=kind,
            name=name,
            title=str(title)[:2000] if isinstance(title, str) else None,
            description=description if isinstance(description, str) else None,
            body=body,
            digest=digest(body),
        ),
        notes,
    )


def content_digest(
    items: Iterable[Item],
    server_info: Mapping[str, Any],
    capabilities: Mapping[str, Any],
    invalid: Iterable[Mapping[str, str]] = (),
) -> str:
    """One digest for everything a snapshot records, independent of listing order.

    Items refused as invalid count too (by kind, name and reason), so that a server fixing
    or dropping one records a new snapshot; without any the digest is as it always was.
    """
    listed = sorted((i.kind, i.name, i.digest) for i in items)
    content: dict[str, Any] = {
        "items": listed,
        "server_info": server_info,
        "capabilities": capabilities,
    }
    refused = sorted((i["kind"], i["name"], i["reason"]) for i in invalid)
    if refused:
        content["invalid_items"] = refused
    return digest(content)


def diff(
    before: Iterable[Item],
    after: Iterable[Item],
    *,
    before_meta: Mapping[str, Any] | None = None,
    after_meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What changed: added, removed, and modified items with the fields that differ."""
    old = {i.key: i for i in before}
    new = {i.key: i for i in after}
    added = [{"kind": k, "name": n} for (k, n) in sorted(new.keys() - old.keys())]
    removed = [{"kind": k, "name": n} for (k, n) in sorted(old.keys() - new.keys())]
    modified = []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key].body, new[key].body
        if old[key].digest != new[key].digest:
            fields = sorted(
                f for f in a.keys() | b.keys() if canonical(a.get(f)) != canonical(b.get(f))
            )
            modified.append({"kind": key[0], "name": key[1], "fields": fields})
    meta_changed = sorted(
        field
        for field in (before_meta or {}).keys() | (after_meta or {}).keys()
        if canonical((before_meta or {}).get(field)) != canonical((after_meta or {}).get(field))
    )
    return {
        "added": added,
        "removed": removed,
        "modified": modified,
        "unchanged": len(old.keys() & new.keys()) - len(modified),
        "server_changed": meta_changed,
    }


def server_meta(
    protocol_version: str | None, server_info: Mapping[str, Any], capabilities: Mapping[str, Any]
) -> dict[str, Any]:
    """What a diff compares about the server itself, besides its items."""
    return {
        "protocol_version": protocol_version,
        "server_info": server_info,
        "capabilities": capabilities,
    }


def is_empty(change: Mapping[str, Any]) -> bool:
    return not (
        change["added"] or change["removed"] or change["modified"] or change["server_changed"]
    )
