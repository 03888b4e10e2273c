"""Listing everything a server offers, page by page, within size limits."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema_rs
from mcp.client.session import ClientSession
from mcp_types import PaginatedRequestParams

from sprintconnect.discovery.listing import ListingGuard
from sprintconnect.discovery.snapshot import Item, make_item


@dataclass(frozen=True)
class Limits:
    max_items: int
    max_item_bytes: int
    max_pages: int


@dataclass
class Collected:
    protocol_version: str | None
    server_info: dict[str, Any]
    capabilities: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    # Items the SDK would refuse, kept out of ``items``: kind, name and the reason.
    invalid: list[dict[str, str]] = field(default_factory=list)
    # What was not kept as sent: dropped items, truncated fields, invalid schemas and items.
    notes: dict[str, Any] = field(default_factory=dict)


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


@functools.cache
def _meta_validator(validator_class: Any) -> Any:
    """A validator of schemas themselves, built once per JSON Schema draft."""
    return validator_class(validator_class.META_SCHEMA)


# The drafts whose meta-schemas ``jsonschema_rs`` carries. Any other ``$schema`` goes to the
# Python checker: asked about a meta-schema it does not carry, ``jsonschema_rs`` would try to
# fetch it from the URL, and a schema's ``$schema`` is chosen by the remote server.
_BUILT_IN_DRAFTS = frozenset(
    {
        "http://json-schema.org/draft-04/schema",
        "http://json-schema.org/draft-06/schema",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    }
)


def _fast_valid(schema: dict[str, Any]) -> bool:
    """True when the compiled checker finds ``schema`` valid against its meta-schema (about a
    thousand times faster than ``jsonschema``; without ``$schema`` both use draft 2020-12)."""
    draft = schema.get("$schema")
    if draft is not None and (
        not isinstance(draft, str) or draft.rstrip("#") not in _BUILT_IN_DRAFTS
    ):
        return False
    try:
        return bool(jsonschema_rs.meta.is_valid(schema))
    except Exception:  # whatever it cannot judge, the Python checker judges
        return False


@functools.lru_cache(maxsize=4096)
def _problem_of(canonical_schema: str) -> str | None:
    schema = json.loads(canonical_schema)
    # An unknown ``$schema`` is judged by the latest draft, stated here rather than left to
    # jsonschema's deprecated fallback (which will become an error).
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.validators.Draft202012Validator
    )
    error = jsonschema.exceptions.best_match(_meta_validator(validator_class).iter_errors(schema))
    return str(error.message)[:300] if error is not None else None


def _schema_problem(schema: Any) -> str | None:
    """Why a tool's schema is not a valid JSON Schema, if it is not.

    Most schemas are valid and the compiled checker says so in microseconds; the others (and
    any it cannot judge) go to ``jsonschema``, whose best-matching error is the reason we
    record. That path is cached, since checking against the meta-schema is the costly part.
    """
    if not isinstance(schema, dict):
        return "not an object"
    if not isinstance(schema.get("$schema", ""), str):
        return "$schema is not a string"  # jsonschema itself would fail on it
    if _fast_valid(schema):
        return None
    return _problem_of(json.dumps(schema, sort_keys=True))


Phase = Callable[[str], Awaitable[None]]


async def collect(
    session: ClientSession, limits: Limits, on_phase: Phase, guard: ListingGuard | None = None
) -> Collected:
    """Everything the server lists; with ``guard`` (on the session's streams, see
    ``discovery.listing``) an item the SDK would refuse is recorded instead of failing all."""
    caps = session.server_capabilities
    if guard is not None:
        guard.version = session.protocol_version
    info = session.server_info
    result = Collected(
        protocol_version=session.protocol_version,
        server_info=_dump(info) if info else {},
        capabilities=_dump(caps) if caps else {},
    )
    listings: list[tuple[str, bool, Callable[..., Awaitable[Any]], str]] = [
        ("tool", bool(caps and caps.tools), session.list_tools, "tools"),
        ("resource", bool(caps and caps.resources), session.list_resources, "resources"),
        (
            "resource_template",
            bool(caps and caps.resources),
            session.list_resource_templates,
            "resource_templates",
        ),
        ("prompt", bool(caps and caps.prompts), session.list_prompts, "prompts"),
    ]
    dropped: dict[str, int] = {}
    truncated: list[dict[str, Any]] = []
    invalid: list[dict[str, str]] = []
    for kind, supported, lister, attribute in listings:
        if not supported:
            continue
        await on_phase(f"listing_{attribute}")
        cursor: str | None = None
        for page in range(limits.max_pages):
            params = PaginatedRequestParams(cursor=cursor) if cursor else None
            # The SDK validates each answer against the protocol; the guard has taken out
            # the items that would fail it, so that one bad tool does not fail the listing.
            listing = await lister(params=params)
            for entry in getattr(listing, attribute):
                if len(result.items) >= limits.max_items:
                    dropped[kind] = dropped.get(kind, 0) + 1
                    continue
                item, cut = make_item(kind, _dump(entry), max_bytes=limits.max_item_bytes)
                result.items.append(item)
                if cut:
                    truncated.append({"kind": kind, "name": item.name, "fields": cut})
                if kind == "tool":
                    for schema_field in ("inputSchema", "outputSchema"):
                        if schema_field in item.body and schema_field not in cut:
                            problem = _schema_problem(item.body[schema_field])
                            if problem:
                                invalid.append(
                                    {"name": item.name, "field": schema_field, "problem": problem}
                                )
            cursor = listing.next_cursor
            if not cursor:
                break
            if page == limits.max_pages - 1:
                result.notes.setdefault("pages_capped", []).append(kind)
    if dropped:
        result.notes["items_dropped"] = dropped
    if truncated:
        result.notes["fields_truncated"] = truncated
    if invalid:
        result.notes["invalid_schemas"] = invalid
    if guard is not None and guard.rejected:
        result.invalid = list(guard.rejected[: limits.max_items])
        result.notes["invalid_items"] = result.invalid
    return result
