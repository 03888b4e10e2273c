"""Request and response models of sign-in: the provider's configuration and the session."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_CLAIM = r"^[A-Za-z0-9_:./-]{1,100}$"
_ROLE = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class IdentityProviderUpdate(BaseModel):
    """The organization's OIDC provider. ``client_secret`` is write-only: omit it to keep the
    stored one."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(
        min_length=8,
        max_length=500,
        pattern=r"^https?://[^\s?#]+$",
        description="The provider's issuer URL, exactly as its metadata states it; "
        "'/.well-known/openid-configuration' is read from it.",
    )
    client_id: str = Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
    client_secret: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Stored in the secret store; never returned. Omit to keep the current one.",
    )
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"], max_length=20)
    allowed_email_domains: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Sign-in is refused for emails outside these domains; empty: any domain.",
    )
    claim_name: str = Field(default="name", pattern=_CLAIM)
    claim_email: str = Field(default="email", pattern=_CLAIM)
    claim_groups: str = Field(default="groups", pattern=_CLAIM)
    group_roles: dict[str, list[str]] = Field(
        default_factory=dict,
        max_length=200,
        description="Group name -> roles. Roles the mapping gives replace the ones it gave at "
        "the previous sign-in; roles assigned by hand stay.",
    )
    access_token_audience: str | None = Field(
        default=None,
        max_length=500,
        description="Access tokens from this provider are accepted as bearer tokens when their "
        "'aud' holds this value; unset: they are not accepted.",
    )
    enabled: bool = True

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not scope or len(scope) > 100 or any(c.isspace() or ord(c) < 0x21 for c in scope):
                raise ValueError("each scope is one printable word")
        if "openid" not in value:
            value = ["openid", *value]
        return list(dict.fromkeys(value))

    @field_validator("allowed_email_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        import re

        out = []
        for domain in value:
            domain = domain.strip().lower().lstrip("@")
            if not re.fullmatch(
                r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", domain
            ):
                raise ValueError(f"not a domain name: {domain[:100]!r}")
            out.append(domain)
        return list(dict.fromkeys(out))

    @field_validator("group_roles")
    @classmethod
    def _group_roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        import re

        for group, roles in value.items():
            if not group or len(group) > 200:
                raise ValueError("group names hold 1 to 200 characters")
            if len(roles) > 20 or not all(re.fullmatch(_ROLE, r) for r in roles):
                raise ValueError(f"group {group[:100]!r}: up to 20 role names")
        return value


class IdentityProviderOut(BaseModel):
    issuer: str
    client_id: str
    client_secret_set: bool = Field(description="Whether a client secret is stored.")
    scopes: list[str]
    allowed_email_domains: list[str]
    claim_name: str
    claim_email: str
    claim_groups: str
    group_roles: dict[str, list[str]]
    access_token_audience: str | None
    enabled: bool
    redirect_uri: str = Field(description="Register this exact URI with the provider.")
    login_url: str = Field(description="Where members of this organization sign in.")
    updated_at: datetime


class SessionUser(BaseModel):
    id: UUID
    email: str | None
    name: str | None
    roles: list[str]


class SessionOut(BaseModel):
    """The signed-in browser's session, for the console."""

    session_id: UUID
    org_id: UUID
    org_slug: str
    user: SessionUser
    csrf_token: str = Field(
        description="Send it as X-CSRF-Token on every request that changes "
        "something (any method but GET, HEAD and OPTIONS)."
    )
    authenticated_at: datetime
    expires_at: datetime = Field(description="The absolute end of the session.")
    idle_expires_at: datetime
    acr: str | None


class LogoutOut(BaseModel):
    signed_out: bool
    end_session_url: str | None = Field(
        description="The provider's logout page (RP-initiated logout); visit it to end the "
        "provider's session too. Null when the provider has none."
    )
