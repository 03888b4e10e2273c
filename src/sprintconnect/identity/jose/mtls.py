"""Certificate-bound access tokens (RFC 8705) behind a TLS-terminating proxy.

The proxy verifies the client certificate and forwards it URL-encoded in PEM form (nginx's
``$ssl_client_escaped_cert``) in the header the operator names; the header is trusted only
when every request reaches us through that proxy and the proxy strips the header from clients.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from sprintconnect.identity.jose.verify import TokenRejected, b64url_encode

MAX_HEADER_BYTES = 16_384
_BEGIN = "-----BEGIN CERTIFICATE-----"


def certificate_thumbprint(header_value: str) -> str:
    """``x5t#S256`` (base64url SHA-256 of the DER certificate) of a URL-encoded PEM certificate.

    Raises TokenRejected("certificate") when the value is not exactly one PEM certificate.
    """
    if (
        not isinstance(header_value, str)
        or not header_value
        or len(header_value) > MAX_HEADER_BYTES
    ):
        raise TokenRejected("certificate")
    pem = unquote(header_value.strip())
    if pem.count(_BEGIN) != 1:
        raise TokenRejected("certificate")
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise TokenRejected("certificate") from exc
    return b64url_encode(hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest())
