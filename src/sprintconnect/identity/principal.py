"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log records it.

    ``api_key``: a user's key (``user_id`` is its owner); ``service``: a service key (no
    user); ``user``: a user acting without a key (e.g. a platform operator through the jobs
    API); ``system``: the platform itself (scheduler, CLI, migrations); ``anonymous``: a
    refused credential. ``super_admin`` marks a user who was a platform operator.
    """

    type: Literal["api_key", "service", "user", "system", "anonymous"]
    id: str | None = None
    user_id: str | None = None
    super_admin: bool = False


@dataclass(frozen=True)
class Principal:
    """A caller, with what it may do as of this request.

    Roles and policy version are read for the request, or reused from a check of the same key
    at most ``SPRINTCONNECT_API_KEY_CACHE_SECONDS`` ago (``identity.cache``).
    """

    org_id: UUID
    scopes: frozenset[str]
    user_id: UUID | None = None
    api_key_id: UUID | None = None
    permissions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    policy_version: int = 0
    time_context: dict[str, int | str] = field(default_factory=dict)
    # A platform operator (``users.is_super_admin``): may act on the platform itself, e.g. jobs.
    super_admin: bool = False
    # The organization's name and slug as of the same read as the roles.
    org_name: str = ""
    org_slug: str = ""

    @property
    def actor(self) -> Actor:
        user = str(self.user_id) if self.user_id is not None else None
        if self.api_key_id is not None:
            kind: Literal["api_key", "service"] = "api_key" if user else "service"
            return Actor(kind, str(self.api_key_id), user, self.super_admin)
        if user is not None:
            return Actor("user", user, user, self.super_admin)
        return Actor("system")
