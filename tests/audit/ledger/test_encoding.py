"""The canonical leaf encoding: one byte string per entry, however the entry is handed over."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sprintconnect.audit.ledger import encoding

ENTRY: dict[str, Any] = {
    "id": uuid.UUID("5a0f3c2e-8d71-4b6a-9e45-0c1d2b3a4f56"),
    "org_id": uuid.UUID("0b9d6a52-6c1e-4f39-8f0a-3e6b2d7c4a91"),
    "seq": 42,
    "occurred_at": datetime(2026, 11, 28, 12, 30, 5, 120, tzinfo=timezone(timedelta(hours=1))),
    "tag": "org:server:updated",
    "actor_type": "api_key",
    "actor_id": "k1",
    "actor_user_id": None,
    "actor_super_admin": False,
    "target_type": "mcp_server",
    "target_id": "s1",
    "details": {"z": 1, "a": {"é": [1, 2.5, None]}},
    "request_id": "r1",
    "ip": ipaddress.ip_address("10.0.0.7"),
    "user_agent": "curl/8",
}


def test_the_encoding_is_sorted_compact_utf8_json_with_utc_microseconds() -> None:
    assert (
        encoding.encode(ENTRY)
        == (
            '{"actor_id":"k1","actor_super_admin":false,"actor_type":"api_key",'
            '"actor_user_id":null,"details":{"a":{"é":[1,2.5,null]},"z":1},'
            '"id":"5a0f3c2e-8d71-4b6a-9e45-0c1d2b3a4f56","ip":"10.0.0.7",'
            '"occurred_at":"2026-11-28T11:30:05.000120Z",'
            '"org_id":"0b9d6a52-6c1e-4f39-8f0a-3e6b2d7c4a91","request_id":"r1","seq":42,'
            '"tag":"org:server:updated","target_id":"s1","target_type":"mcp_server",'
            '"user_agent":"curl/8","v":1}'
        ).encode()
    )


def test_an_export_line_encodes_like_the_row() -> None:
    line = {
        **ENTRY,
        "id": str(ENTRY["id"]),
        "org_id": str(ENTRY["org_id"]),
        "occurred_at": "2026-11-28T11:30:05.000120+00:00",
        "ip": "10.0.0.7/32",
        "leaf_index": 3,  # extra members do not count
        "type": "entry",
    }
    assert encoding.leaf_hash(line) == encoding.leaf_hash(ENTRY)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seq", "42"),
        ("seq", True),
        ("occurred_at", "yesterday"),
        ("occurred_at", datetime(2026, 1, 1)),  # no offset
        ("details", []),
        ("ip", "not-an-ip"),
        ("id", "nope"),
        ("tag", 5),
        ("actor_super_admin", "false"),
    ],
)
def test_malformed_entries_are_refused(name: str, value: object) -> None:
    with pytest.raises(encoding.EncodingError):
        encoding.encode({**ENTRY, name: value})


def test_a_missing_field_is_refused() -> None:
    entry = dict(ENTRY)
    del entry["user_agent"]
    with pytest.raises(encoding.EncodingError, match="user_agent"):
        encoding.encode(entry)


def test_the_chain_starts_from_zeros() -> None:
    leaf = encoding.leaf_hash(ENTRY)
    first = encoding.chain_hash(None, leaf)
    assert first == encoding.chain_hash(bytes(32), leaf)
    assert encoding.chain_hash(first, leaf) != first
