"""Splitting auth settings into what may be shown and what goes to the secret store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from uuid import UUID

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from sprintconnect.errors import FieldError, ValidationFailed
from sprintconnect.mcp_server.auth_schemas import (
    AuthSettings,
    AuthSummary,
    BearerAuth,
    CertificateSummary,
    HeaderAuth,
    MtlsAuth,
    OAuth2ClientCredentials,
)
from sprintconnect.models import McpServer


@dataclass(frozen=True)
class SplitAuth:
    type: str
    config: dict[str, Any]
    secret: dict[str, str] = field(default_factory=dict)


def secret_path(server_id: UUID) -> str:
    return f"servers/{server_id}/auth"


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"auth.{field_name}: {message}",
        errors=[FieldError(loc=["body", "auth", field_name], msg=message, type="value_error")],
    )


def _certificate(auth: MtlsAuth) -> dict[str, Any]:
    try:
        cert = x509.load_pem_x509_certificate(auth.client_cert_pem.encode())
    except ValueError as exc:
        raise _invalid("client_cert_pem", "is not a PEM certificate") from exc
    try:
        key = load_pem_private_key(auth.client_key_pem.get_secret_value().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise _invalid("client_key_pem", "is not an unencrypted PEM private key") from exc
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise _invalid("client_key_pem", "does not match the certificate")
    if auth.ca_bundle_pem is not None:
        try:
            x509.load_pem_x509_certificates(auth.ca_bundle_pem.encode())
        except ValueError as exc:
            raise _invalid("ca_bundle_pem", "is not a PEM certificate bundle") from exc
    return {
        "subject": cert.subject.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.astimezone(UTC).isoformat(),
        "sha256": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
    }


def split(auth: AuthSettings) -> SplitAuth:
    """Validate credentials and divide them; the secret part never reaches the database."""
    if isinstance(auth, BearerAuth):
        return SplitAuth("bearer", {}, {"token": auth.token.get_secret_value()})
    if isinstance(auth, HeaderAuth):
        return SplitAuth(
            "header", {"header_name": auth.header_name}, {"value": auth.value.get_secret_value()}
        )
    if isinstance(auth, OAuth2ClientCredentials):
        return SplitAuth(
            "oauth2_client_credentials",
            {
                "token_url": auth.token_url,
                "client_id": auth.client_id,
                "scopes": auth.scopes,
                "audience": auth.audience,
            },
            {"client_secret": auth.client_secret.get_secret_value()},
        )
    if isinstance(auth, MtlsAuth):
        secret = {
            "client_cert_pem": auth.client_cert_pem,
            "client_key_pem": auth.client_key_pem.get_secret_value(),
        }
        if auth.ca_bundle_pem:
            secret["ca_bundle_pem"] = auth.ca_bundle_pem
        return SplitAuth("mtls", {"certificate": _certificate(auth)}, secret)
    return SplitAuth("none", {})


def summary(server: McpServer) -> AuthSummary:
    config = server.auth_config or {}
    return AuthSummary.model_validate(
        {
            "type": server.auth_type,
            "configured": server.auth_type != "none",
            "updated_at": server.credentials_updated_at,
            **{k: v for k, v in config.items() if k != "certificate"},
            "certificate": (
                CertificateSummary.model_validate(config["certificate"])
                if "certificate" in config
                else None
            ),
        }
    )
