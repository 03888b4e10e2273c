"""WWW-Authenticate challenges, the problem classes that carry them, and mTLS thumbprints."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from sprintconnect.handlers import install_error_handlers
from sprintconnect.identity.jose import (
    DpopRejected,
    InvalidDpopProof,
    InvalidToken,
    TokenRejected,
    bearer_challenge,
    certificate_thumbprint,
    dpop_challenge,
)

# --- challenges ------------------------------------------------------------------------------


def test_bearer_challenge_forms() -> None:
    assert bearer_challenge() == 'Bearer realm="sprintconnect"'
    assert bearer_challenge("invalid_token", "The token has expired.") == (
        'Bearer realm="sprintconnect", error="invalid_token", '
        'error_description="The token has expired."'
    )
    assert bearer_challenge("insufficient_scope", scope="servers:read  servers:write") == (
        'Bearer realm="sprintconnect", error="insufficient_scope", '
        'scope="servers:read servers:write"'
    )


def test_dpop_challenge_forms() -> None:
    assert (
        dpop_challenge(algs=["ES256", "PS256"]) == 'DPoP realm="sprintconnect", algs="ES256 PS256"'
    )
    assert dpop_challenge("use_dpop_nonce", "Use the nonce.", algs=["ES256"]) == (
        'DPoP realm="sprintconnect", algs="ES256", error="use_dpop_nonce", '
        'error_description="Use the nonce."'
    )
    assert "none" not in dpop_challenge()
    assert "HS256" not in dpop_challenge()


@pytest.mark.parametrize(
    "description",
    ['a "quoted" word', "back\\slash", "line\r\nSet-Cookie: x=1", "caf\u00e9", "tab\there"],
)
def test_descriptions_cannot_break_out_of_their_quotes(description: str) -> None:
    for header in (
        bearer_challenge("invalid_token", description),
        dpop_challenge("invalid_dpop_proof", description),
    ):
        inner = header.split('error_description="', 1)[1]
        assert inner.endswith('"')
        assert '"' not in inner[:-1]
        assert all(0x20 <= ord(c) <= 0x7E for c in header)
        assert "\\" not in header


@pytest.mark.parametrize("error", ['x"y', "a b", "", "e\n"])
def test_error_codes_must_be_tokens(error: str) -> None:
    with pytest.raises(ValueError, match="token"):
        bearer_challenge(error)


def test_algs_are_filtered_to_tokens() -> None:
    assert dpop_challenge(algs=['ES256"', "PS256"]) == 'DPoP realm="sprintconnect", algs="PS256"'


# --- problems --------------------------------------------------------------------------------


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x")
    async def boom() -> None:
        raise error

    return app


async def get(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/x")


async def test_invalid_token_problem_with_bearer_challenge() -> None:
    error = InvalidToken.from_rejection(TokenRejected("expired"))
    response = await get(app_raising(error))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/invalid-token")
    assert body["detail"] == "The token has expired."
    assert response.headers["www-authenticate"] == (
        'Bearer realm="sprintconnect", error="invalid_token", '
        'error_description="The token has expired."'
    )


async def test_invalid_token_problem_with_dpop_challenge() -> None:
    error = InvalidToken.from_rejection(TokenRejected("signature"), scheme="DPoP")
    response = await get(app_raising(error))
    assert response.headers["www-authenticate"].startswith('DPoP realm="sprintconnect", algs="')
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_invalid_dpop_proof_problem() -> None:
    response = await get(app_raising(InvalidDpopProof.from_rejection(DpopRejected("replay"))))
    assert response.status_code == 401
    assert response.json()["type"].endswith("/invalid-dpop-proof")
    assert 'error="invalid_dpop_proof"' in response.headers["www-authenticate"]
    assert "dpop-nonce" not in response.headers


async def test_use_dpop_nonce_problem_carries_the_nonce() -> None:
    rejection = DpopRejected("nonce", use_nonce="abc123")
    response = await get(app_raising(InvalidDpopProof.from_rejection(rejection)))
    assert response.status_code == 401
    assert 'error="use_dpop_nonce"' in response.headers["www-authenticate"]
    assert response.headers["dpop-nonce"] == "abc123"


# --- mTLS ------------------------------------------------------------------------------------


def make_certificate() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client-1")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_certificate_thumbprint_of_url_encoded_pem() -> None:
    cert = make_certificate()
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    ).rstrip(b"=")
    assert certificate_thumbprint(quote(pem)) == expected.decode()
    assert certificate_thumbprint(pem) == expected.decode()  # already decoded by the proxy


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        quote("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "x" * 20_000,
    ],
)
def test_certificate_thumbprint_refuses_bad_values(value: str) -> None:
    with pytest.raises(TokenRejected) as info:
        certificate_thumbprint(value)
    assert info.value.reason == "certificate"


def test_certificate_thumbprint_refuses_two_certificates() -> None:
    pem = make_certificate().public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(TokenRejected):
        certificate_thumbprint(quote(pem + pem))
