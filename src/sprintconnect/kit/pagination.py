"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from sprintconnect.errors import InvalidCursor
from sprintconnect.kit.input import text_problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# The largest value a PostgreSQL integer column holds: bigger numbers are 422, not a 500.
INT4_MAX = 2_147_483_647


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor that fetches the next one (null at the end)."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to fetch the next page; null on the last."
    )


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
