"""The one canonical encoding of an audit entry, the bytes its Merkle leaf hashes.

Version 1: a JSON object, RFC 8785 style (keys sorted, no whitespace, UTF-8, non-ASCII kept),
with exactly the members of ``LEAF_FIELDS`` plus ``"v": 1``:

- ``id``, ``org_id``: lower-case hyphenated UUIDs;
- ``seq``: integer;
- ``occurred_at``: UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits);
- ``tag``, ``actor_type``, ``actor_id``, ``actor_user_id``, ``target_type``, ``target_id``,
  ``request_id``, ``user_agent``: strings or null;
- ``actor_super_admin``: boolean;
- ``ip``: the address as PostgreSQL's ``inet`` prints it without a full-length prefix, or null;
- ``details``: the stored JSON object, its keys sorted at every depth.

The database rows (``from_row``) and an export's entry lines (``from_export``, as
``sprintconnect audit verify-export`` reads them) map onto the same fields, so an auditor's
recomputation and the server's agree byte for byte.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sprintconnect.kit import merkle

ENCODING_VERSION = 1
LEAF_FIELDS = (
    "id",
    "org_id",
    "seq",
    "occurred_at",
    "tag",
    "actor_type",
    "actor_id",
    "actor_user_id",
    "actor_super_admin",
    "target_type",
    "target_id",
    "details",
    "request_id",
    "ip",
    "user_agent",
)


class EncodingError(ValueError):
    """An entry that cannot be encoded (a field missing or of the wrong kind)."""


def _timestamp(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise EncodingError(f"occurred_at is not an ISO 8601 time: {value!r}") from exc
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise EncodingError("occurred_at must be a time with an offset")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ip(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        value = str(value)  # (an interface is also an address: test it first)
    elif isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)  # as the database driver hands an address over
    text = str(value)
    try:
        if "/" in text:
            interface = ipaddress.ip_interface(text)
            full = interface.network.max_prefixlen
            if interface.network.prefixlen == full:
                return str(interface.ip)
            return str(interface)
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        raise EncodingError(f"ip is not an address: {text!r}") from exc


def _optional_text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, UUID):
        return str(value)
    raise EncodingError(f"{name} must be a string or null")


def _uuid(value: Any, name: str) -> str:
    try:
        return str(value if isinstance(value, UUID) else UUID(str(value)))
    except ValueError as exc:
        raise EncodingError(f"{name} is not a UUID") from exc


def canonical_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's members, normalized, from anything that has the ``LEAF_FIELDS`` keys."""
    missing = [name for name in LEAF_FIELDS if name not in entry]
    if missing:
        raise EncodingError(f"the entry lacks {', '.join(missing)}")
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise EncodingError("seq must be an integer")
    details = entry["details"]
    if not isinstance(details, dict):
        raise EncodingError("details must be an object")
    super_admin = entry["actor_super_admin"]
    if not isinstance(super_admin, bool):
        raise EncodingError("actor_super_admin must be a boolean")
    fields: dict[str, Any] = {
        "v": ENCODING_VERSION,
        "id": _uuid(entry["id"], "id"),
        "org_id": _uuid(entry["org_id"], "org_id"),
        "seq": seq,
        "occurred_at": _timestamp(entry["occurred_at"]),
        "actor_super_admin": super_admin,
        "details": details,
        "ip": _ip(entry["ip"]),
    }
    for name in (
        "tag",
        "actor_type",
        "actor_id",
        "actor_user_id",
        "target_type",
        "target_id",
        "request_id",
        "user_agent",
    ):
        fields[name] = _optional_text(entry[name], name)
    return fields


def encode(entry: Mapping[str, Any]) -> bytes:
    """The canonical bytes of an entry (see the module's description)."""
    return json.dumps(
        canonical_fields(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def leaf_hash(entry: Mapping[str, Any]) -> bytes:
    """The entry's Merkle leaf hash, ``SHA-256(0x00 || encode(entry))``."""
    return merkle.leaf_hash(encode(entry))


def chain_hash(previous: bytes | None, leaf: bytes) -> bytes:
    """The hash chain: ``SHA-256(previous || leaf)``, from 32 zero bytes before the first."""
    return hashlib.sha256((previous or bytes(32)) + leaf).digest()
