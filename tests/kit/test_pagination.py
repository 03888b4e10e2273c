"""Cursors are opaque to clients and parsed from their input: any crafted one is a 422."""

from __future__ import annotations

import base64

import pytest

from sprintconnect.errors import InvalidCursor
from sprintconnect.kit.pagination import decode_cursor, decode_key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw", [b"[" * 5000, b'{"a":' * 5000, b"[" * 5000 + b"]" * 5000], ids=["open", "obj", "closed"]
)
def test_cursors_nested_past_the_recursion_limit_are_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(_b64(raw))
    with pytest.raises(InvalidCursor):
        decode_key(_b64(raw), 2)
