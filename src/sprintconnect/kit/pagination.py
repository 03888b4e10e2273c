"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel, Field

from sprintconnect.errors import InvalidCursor
from sprintconnect.kit.input import text_problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# The largest value a PostgreSQL integer column holds: bigger numbers are 422, not a 500.
INT4_MAX = 2_147_483_647

# The two query parameters of every list endpoint.
CursorParam = Annotated[
    str | None,
    Query(max_length=1024, description="The `next_cursor` of the previous page, unchanged."),
]
LimitParam = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
]


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor that fetches the next one (null at the end)."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to fetch the next page; null on the last."
    )


def cut(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (fetched with ``limit + 1``) and the cursor after them,
    ``key(last row)``, or None when nothing follows."""
    page = list(rows[:limit])
    return page, key(page[-1]) if len(rows) > limit and page else None


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Parse a cursor from ``encode_cursor``; anything else is a 422 ``InvalidCursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created), UUID(row_id)
    # RecursionError: JSON nested past Python's limit (``max_length`` on the query parameter
    # keeps cursors shallower today; this holds whatever that limit becomes).
    except (
        ValueError,
        TypeError,
        AttributeError,
        binascii.Error,
        UnicodeDecodeError,
        RecursionError,
    ) as exc:
        raise InvalidCursor() from exc


def encode_key(*values: object) -> str:
    """A cursor from any JSON-able sort key (the last row's key and id)."""
    raw = json.dumps([str(v) if isinstance(v, UUID | datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_key(cursor: str, size: int) -> list[object]:
    """The values of an ``encode_key`` cursor; anything else is a 422 ``InvalidCursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(values, list) or len(values) != size:
        raise InvalidCursor()
    # Only what ``encode_key`` writes, and text that PostgreSQL can hold: a crafted cursor
    # is a 422, never a database error.
    for value in values:
        if not isinstance(value, str | int | float | None) or (
            isinstance(value, str) and text_problem(value) is not None
        ):
            raise InvalidCursor()
    return values


def version_cursor(cursor: str) -> int:
    """The version number held by an ``encode_key(version)`` cursor (lists by version)."""
    (version,) = decode_key(cursor, 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= INT4_MAX:
        raise InvalidCursor()
    return version
