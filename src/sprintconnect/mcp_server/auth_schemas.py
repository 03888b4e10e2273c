"""How SprintConnect authenticates to a registered server: write-only credentials."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_TOKEN_CHARS = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
# Headers a credential may not set: they belong to the transport or to the protocol.
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "cookie",
        "mcp-session-id",
        "mcp-protocol-version",
        "accept",
    }
)


def _printable_secret(value: SecretStr) -> SecretStr:
    raw = value.get_secret_value()
    if not raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise ValueError("must be non-empty printable text")
    return value


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoAuth(_Auth):
    type: Literal["none"] = "none"


class BearerAuth(_Auth):
    type: Literal["bearer"]
    token: SecretStr = Field(max_length=8192)

    _token = field_validator("token")(_printable_secret)


class HeaderAuth(_Auth):
    type: Literal["header"]
    header_name: str = Field(description="e.g. X-API-Key")
    value: SecretStr = Field(max_length=8192)

    _value = field_validator("value")(_printable_secret)

    @field_validator("header_name")
    @classmethod
    def _header(cls, value: str) -> str:
        if not _TOKEN_CHARS.match(value) or value.lower() in _RESERVED_HEADERS:
            raise ValueError("must be a valid, non-reserved HTTP header name")
        return value


class OAuth2ClientCredentials(_Auth):
    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(max_length=2048)
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: SecretStr = Field(max_length=8192)
    scopes: list[Annotated[str, Field(pattern=r"^[\x21\x23-\x5B\x5D-\x7E]{1,200}$")]] = Field(
        default_factory=list, max_length=50
    )
    audience: str | None = Field(default=None, max_length=512)

    _secret = field_validator("client_secret")(_printable_secret)


class MtlsAuth(_Auth):
    type: Literal["mtls"]
    # Together they fit the secret store's 64 KiB per secret.
    client_cert_pem: str = Field(max_length=16384)
    client_key_pem: SecretStr = Field(max_length=16384)
    ca_bundle_pem: str | None = Field(
        default=None, max_length=30000, description="Trust these CAs for this server only."
    )


AuthSettings = Annotated[
    NoAuth | BearerAuth | HeaderAuth | OAuth2ClientCredentials | MtlsAuth,
    Field(discriminator="type"),
]


class CertificateSummary(BaseModel):
    subject: str
    not_after: datetime
    sha256: str


class AuthSummary(BaseModel):
    """What the API says about credentials: their kind and when they were set, never them."""

    type: Literal["none", "bearer", "header", "oauth2_client_credentials", "mtls"]
    configured: bool
    updated_at: datetime | None = None
    header_name: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    scopes: list[str] | None = None
    audience: str | None = None
    certificate: CertificateSummary | None = None
