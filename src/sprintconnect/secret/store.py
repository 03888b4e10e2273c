"""The secret store interface, the value and metadata types, and input validation.

Both backends own their writes: a ``put`` is durable when it returns, whatever the caller's
database transaction does afterwards (Vault cannot join our transaction, so the local backend
does not either; callers see one behaviour whichever backend is configured).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal, Protocol
from uuid import UUID

from sprintconnect.secret.errors import InvalidSecretPath, InvalidSecretValue

Backend = Literal["local", "vault"]

MAX_PATH_LENGTH = 512
MAX_PATH_SEGMENTS = 16
MAX_FIELDS = 100
MAX_VALUE_BYTES = 65_536
SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
FIELD_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class SecretValue(Mapping[str, str]):
    """The fields of a secret; ``repr`` and ``str`` never show them, ``reveal()`` does."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, str]) -> None:
        self._fields = dict(fields)

    def __getitem__(self, name: str) -> str:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def reveal(self) -> dict[str, str]:
        """A plain copy of the fields, for the one place that must hand them on."""
        return dict(self._fields)

    def __repr__(self) -> str:
        return f"SecretValue(<{len(self._fields)} field(s) redacted>)"

    __str__ = __repr__


@dataclass(frozen=True)
class SecretMetadata:
    """What may be said about a secret without revealing it."""

    path: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class KeyRotation:
    """The outcome of re-wrapping data keys under the current key-encryption key."""

    backend: Backend
    kek_version: int
    organizations: int
    rewrapped_keys: int
    failed_organizations: tuple[UUID, ...] = ()


class SecretStore(Protocol):
    """Credentials of one organization at a time, addressed by a validated path."""

    backend: ClassVar[Backend]

    async def put(self, org_id: UUID, path: str, value: Mapping[str, str]) -> SecretMetadata:
        """Create or replace the secret at ``path``; its version goes up by one."""
        ...

    async def get(self, org_id: UUID, path: str) -> SecretValue:
        """The secret at ``path``; ``SecretNotFound`` when this organization has none there."""
        ...

    async def metadata(self, org_id: UUID, path: str) -> SecretMetadata:
        """Version and timestamps of the secret at ``path``, never its value."""
        ...

    async def exists(self, org_id: UUID, path: str) -> bool: ...

    async def delete(self, org_id: UUID, path: str) -> bool:
        """Remove the secret and every earlier version; ``False`` when there was none."""
        ...

    async def rotate_keys(self) -> KeyRotation:
        """Re-wrap every organization's data keys under the configured key-encryption key.

        A backend whose server keeps its own keys raises ``KeyRotationUnsupported``.
        """
        ...

    async def close(self) -> None: ...


def _shown(text: str) -> str:
    """A short, printable rendering of a rejected path for an error message."""
    return ascii(text[:64] + ("..." if len(text) > 64 else ""))


def require_org(org_id: UUID) -> UUID:
    """The organization id, refusing anything but a UUID (it becomes part of storage paths)."""
    if not isinstance(org_id, UUID):
        raise TypeError("org_id must be a UUID")
    return org_id


def validate_path(path: str) -> str:
    """Return ``path`` when it is a relative path of plain segments, else raise."""
    if not isinstance(path, str) or not path:
        raise InvalidSecretPath("A secret path must be a non-empty string.")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidSecretPath(
            f"The secret path {_shown(path)} is longer than {MAX_PATH_LENGTH} characters."
        )
    segments = path.split("/")
    if len(segments) > MAX_PATH_SEGMENTS:
        raise InvalidSecretPath(
            f"The secret path {_shown(path)} has more than {MAX_PATH_SEGMENTS} segments."
        )
    for segment in segments:
        if not SEGMENT.fullmatch(segment):
            raise InvalidSecretPath(
                f"The secret path {_shown(path)} is not valid: each '/'-separated segment must "
                "start with a letter or digit and hold only letters, digits, '.', '_' or '-' "
                "(no empty, '.' or '..' segments)."
            )
    return path


def validate_value(value: Mapping[str, str]) -> dict[str, str]:
    """A plain dict of the fields when they are well formed; errors name fields, not values."""
    if not isinstance(value, Mapping):
        raise InvalidSecretValue("A secret value must be a mapping of field names to strings.")
    if not value:
        raise InvalidSecretValue("A secret value must have at least one field.")
    if len(value) > MAX_FIELDS:
        raise InvalidSecretValue(f"A secret value may have at most {MAX_FIELDS} fields.")
    fields: dict[str, str] = {}
    for name, field in value.items():
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise InvalidSecretValue(
                f"The field name {_shown(str(name))} is not valid: use letters, digits, "
                "'.', '_' or '-' (at most 128)."
            )
        if not isinstance(field, str):
            raise InvalidSecretValue(f"The field '{name}' must be a string.")
        fields[name] = field
    try:
        size = len(encode_value(fields))
    except UnicodeEncodeError:
        raise InvalidSecretValue("Secret fields must be valid Unicode text.") from None
    if size > MAX_VALUE_BYTES:
        raise InvalidSecretValue(f"A secret value may hold at most {MAX_VALUE_BYTES} bytes.")
    return fields


def encode_value(fields: Mapping[str, str]) -> bytes:
    """Canonical bytes of a secret's fields (sorted JSON, UTF-8)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode_value(data: bytes) -> dict[str, str] | None:
    """The fields encoded by ``encode_value``; ``None`` when ``data`` is not such an encoding."""
    try:
        fields = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        return None
    return fields
