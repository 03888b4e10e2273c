"""Policy redactions of what a call returned (``redact:result.<path>`` obligations).

A path names keys from the root of the structured result; the same keys are removed from text
content blocks that hold a JSON object (servers often send the structured result as text too).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

PREFIX = "result."


def _drop(node: Any, keys: list[str]) -> bool:
    *parents, leaf = keys
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and leaf in node:
        del node[leaf]
        return True
    return False


def redact_result(result: dict[str, Any], paths: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """The result without the named keys, and the paths that were found and removed."""
    wanted = sorted({p for p in paths if p.startswith(PREFIX)})
    if not wanted:
        return result, []
    result = json.loads(json.dumps(result))
    removed: list[str] = []
    for path in wanted:
        keys = path[len(PREFIX) :].split(".")
        found = _drop(result.get("structuredContent"), keys)
        for block in result.get("content") or []:
            if not isinstance(block, dict) or block.get("type") != "text":
                continue
            try:
                parsed = json.loads(block.get("text") or "")
            except ValueError:
                continue
            if _drop(parsed, keys):
                block["text"] = json.dumps(parsed)
                found = True
        if found:
            removed.append(path)
    return result, removed
