"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log records it."""

    type: Literal["api_key", "user", "system", "anonymous"]
    id: str | None = None


@dataclass(frozen=True)
class Principal:
    org_id: UUID
    scopes: frozenset[str]
    user_id: UUID | None = None
    api_key_id: UUID | None = None

    @property
    def actor(self) -> Actor:
        if self.api_key_id is not None:
            return Actor("api_key", str(self.api_key_id))
        if self.user_id is not None:
            return Actor("user", str(self.user_id))
        return Actor("system")
