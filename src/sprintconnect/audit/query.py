"""The filters of the audit log's list and export, parsed once from the query string.

- ``actor_type`` / ``actor_id``: who acted. ``actor_id`` of a user also matches what that user
  did through their API keys (entries record the key as the actor), so "all activity of this
  user" is ``actor_id=<user id>`` (with or without ``actor_type=user``); ``actor_type=api_key``
  with a key's id narrows to that key alone.
- ``action``: an exact tag (``org:server:registered``), or a prefix ending in ``:`` or ``*``
  (``org:server:``, ``org:api_key:auth_*``).
- ``target_type`` / ``target_id``: what was acted on.
- ``outcome``: ``failure`` for entries whose action (the tag's last part) starts with ``auth_``
  or ends in ``failed`` (refused authentications, failed deliveries), or whose details say
  ``"outcome": "failure"``; ``success`` for every other entry. ``outcome_of`` and
  ``models.audit.AUDIT_FAILURE_SQL`` are the same rule.
- ``from`` / ``to``: ``occurred_at`` within ``[from, to)``; both need a UTC offset.
- ``q``: 3 to 200 characters: entries whose id, request id, target id or actor id is exactly
  ``q``, or whose details hold its words (strings and numbers of the details, any case, whole
  words; web-search syntax: ``"a phrase"``, ``or``, ``-word``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query

from sprintconnect.errors import ValidationFailed
from sprintconnect.kit.input import UtcDatetime

Outcome = Literal["success", "failure"]
ACTION_PATTERN = r"^[a-z0-9_]+(:[a-z0-9_]+)*(:|:?\*)?$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_FAILURE = re.compile(r":(auth_[a-z_]+|[a-z_]*failed)$")


def outcome_of(tag: str, details: dict[str, Any]) -> Outcome:
    """``failure`` or ``success``, by the rule of ``AUDIT_FAILURE_SQL``."""
    failed = _FAILURE.search(tag) is not None or details.get("outcome") == "failure"
    return "failure" if failed else "success"


@dataclass(frozen=True)
class ActionFilter:
    value: str
    prefix: bool

    @property
    def upper(self) -> str:
        """The first string after every one that starts with a prefix (byte order)."""
        return self.value[:-1] + chr(ord(self.value[-1]) + 1)


@dataclass(frozen=True)
class AuditFilters:
    actor_type: str | None = None
    actor_id: str | None = None
    action: ActionFilter | None = None
    target_type: str | None = None
    target_id: str | None = None
    outcome: Outcome | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str | None = None

    def described(self) -> dict[str, str]:
        """The filters in effect, as the export's header and audit entry record them."""
        shown = {
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "action": (self.action.value + ("*" if self.action.prefix else ""))
            if self.action
            else None,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "outcome": self.outcome,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "q": self.q,
        }
        return {k: v for k, v in shown.items() if v is not None}


def parse_action(value: str) -> ActionFilter:
    if value.endswith("*"):
        return ActionFilter(value[:-1], prefix=True)
    if value.endswith(":"):
        return ActionFilter(value, prefix=True)
    return ActionFilter(value, prefix=False)


def audit_filters(
    actor_type: Annotated[
        str | None,
        Query(
            pattern=NAME_PATTERN,
            description="`user`, `api_key`, `system`, `anonymous`, ...",
            examples=["user"],
        ),
    ] = None,
    actor_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="The actor's id. A user's id also matches the entries of their API keys.",
        ),
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=128,
            pattern=ACTION_PATTERN,
            description="An exact tag, or a prefix ending in `:` or `*`.",
            examples=["org:server:"],
        ),
    ] = None,
    target_type: Annotated[
        str | None, Query(pattern=NAME_PATTERN, description="e.g. `mcp_server`, `api_key`.")
    ] = None,
    target_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    outcome: Annotated[
        Outcome | None,
        Query(description="`failure`: refused authentications and failed actions."),
    ] = None,
    from_: Annotated[
        UtcDatetime | None,
        Query(alias="from", description="ISO 8601 with an offset; entries at or after it."),
    ] = None,
    to: Annotated[
        UtcDatetime | None,
        Query(description="ISO 8601 with an offset; entries before it."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=200,
            description="An id (entry, request, target or actor), or words in the details.",
        ),
    ] = None,
) -> AuditFilters:
    if from_ is not None and to is not None and from_ >= to:
        raise ValidationFailed("`from` must be before `to`.", loc=("query", "to"))
    return AuditFilters(
        actor_type=actor_type,
        actor_id=actor_id,
        action=parse_action(action) if action else None,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        start=from_,
        end=to,
        q=q,
    )
