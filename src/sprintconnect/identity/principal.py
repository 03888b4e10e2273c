"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

# How the caller proved who it is: an API key, a browser session (cookie), or an access token
# (a JWT from SprintConnect's token service or from the organization's identity provider).
Credential = Literal["api_key", "session", "token"]


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
    # The user's email and display name in this organization, read with the roles.
    user_email: str | None = None
    user_name: str | None = None
    credential: Credential = "api_key"
    # A browser session's id (credential "session").
    session_id: UUID | None = None
    # A service account acting through a client-credentials token (``user_id`` is its user).
    service_account_id: UUID | None = None
    # An access token's ``jti`` and the client it was issued to (credential "token").
    token_id: str | None = None
    client_id: str | None = None
    # When and how strongly the human behind the request last authenticated (sessions and
    # tokens that carry ``auth_time``/``acr``): what step-up checks. None for API keys.
    auth_time: datetime | None = None
    acr: str | None = None

    @property
    def actor(self) -> Actor:
        user = str(self.user_id) if self.user_id is not None else None
        if self.service_account_id is not None:
            return Actor("service", str(self.service_account_id), user, self.super_admin)
        if self.api_key_id is not None:
            kind: Literal["api_key", "service"] = "api_key" if user else "service"
            return Actor(kind, str(self.api_key_id), user, self.super_admin)
        if user is not None:
            return Actor("user", user, user, self.super_admin)
        return Actor("system")
