"""Token and proof minting for the token validation tests (joserfc signs; we never hand-craft
a valid signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey

ISSUER = "https://issuer.example"
AUDIENCE = "https://api.sprintconnect.test"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rsa(kid: str = "rsa-1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


def ec(kid: str = "ec-1", curve: str = "P-256") -> ECKey:
    return ECKey.generate_key(curve, parameters={"kid": kid, "use": "sig"})


def ed(kid: str = "ed-1") -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig"})


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": T - 10,
        "exp": T + 300,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Key, payload: dict[str, Any], *, alg: str = "ES256", **header: Any) -> str:
    """A compact JWS signed by joserfc; ``header`` adds or (with None) removes members."""
    protected: dict[str, Any] = {"alg": alg, "typ": "at+jwt"}
    if key.kid:
        protected["kid"] = key.kid
    protected.update(header)
    protected = {k: v for k, v in protected.items() if v is not None}
    return raw_sign(key, protected, payload)


def raw_sign(key: Key, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Sign with joserfc's algorithm directly, so headers it would refuse (crit) can be made."""
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}"
    signature = jws.JWSRegistry.algorithms[header["alg"]].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand, for headers no signer would produce (alg none, ...)."""
    return ".".join([b64(json.dumps(header)), b64(json.dumps(payload)), b64(signature)])


def hs256_with_public_key(public: RSAKey, payload: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC keyed with the verifier's public key in PEM form.

    joserfc refuses to build such a key, so the attacker's HMAC is computed directly.
    """
    header = {"alg": "HS256", "typ": "at+jwt", "kid": public.kid}
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}"
    secret = public.as_pem(private=False)
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def key_set(*keys: Key) -> KeySet:
    return KeySet(list(keys))


def jwks_document(*keys: Key) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def ath(token: str) -> str:
    return b64(hashlib.sha256(token.encode()).digest())


def dpop_proof(
    key: Key,
    *,
    method: str = "GET",
    url: str = "https://api.sprintconnect.test/api/v1/me",
    iat: int | None = None,
    alg: str = "ES256",
    typ: str | None = "dpop+jwt",
    jwk: dict[str, Any] | str | None = "public",
    access_token: str | None = None,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> str:
    """A DPoP proof signed by ``key`` with its public JWK embedded (unless told otherwise)."""
    payload: dict[str, Any] = {
        "jti": uuid.uuid4().hex,
        "htm": method,
        "htu": url,
        "iat": T if iat is None else iat,
    }
    if access_token is not None:
        payload["ath"] = ath(access_token)
    payload.update(extra)
    for name in drop:
        payload.pop(name, None)
    header: dict[str, Any] = {"alg": alg, "typ": typ}
    if jwk == "public":
        header["jwk"] = key.as_dict(private=False)
    elif jwk is not None:
        header["jwk"] = jwk
    header = {k: v for k, v in header.items() if v is not None}
    return raw_sign(key, header, payload)
