"""Verify a signed JWT (compact JWS) against a key source and the caller's expectations.

joserfc supplies the key types and the signature algorithms; the checks around them (which
headers are refused, which key may verify which algorithm, which claims are required) are
ours, because ``joserfc.jwt.decode`` validates no claims by itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
)

MIN_RSA_BITS = 2048  # NIST SP 800-131A; smaller moduli are factorable at a cost
# The curve each ECDSA algorithm requires (RFC 7518 section 3.4).
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_OKP_CURVES = frozenset({"Ed25519", "Ed448"})
# Headers that would let the token name its own key or where to fetch it.
_KEY_HEADERS = ("jku", "x5u", "jwk", "x5c")
_KID = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_TIME_CLAIMS = ("exp", "nbf", "iat")
_ALWAYS_REQUIRED = frozenset({"iss", "aud", "exp"})

_DESCRIPTIONS = {
    "malformed": "The token is not a well-formed signed JWT.",
    "too_large": "The token is too large.",
    "algorithm": "The token's signing algorithm is not accepted.",
    "signature": "The token's signature is not valid.",
    "unknown_kid": "The token was signed with a key the issuer does not publish.",
    "keys_unavailable": "The issuer's signing keys could not be obtained.",
    "expired": "The token has expired.",
    "not_yet_valid": "The token is not valid yet.",
    "issued_in_future": "The token was issued in the future.",
    "issuer": "The token's issuer is not accepted.",
    "audience": "The token is not meant for this audience.",
    "type": "The token's type is not accepted here.",
    "missing_claim": "The token lacks a required claim.",
    "crit": "The token carries critical header parameters that are not understood.",
    "header": "The token's header is not accepted.",
    "nonce": "The token's nonce does not match.",
    "certificate": "The client certificate is not valid.",
}


class TokenRejected(Exception):
    """A token failed verification; ``reason`` is a stable code, ``description`` is client-safe."""

    def __init__(self, reason: str, description: str | None = None) -> None:
        self.reason = reason
        self.description = description or _DESCRIPTIONS.get(reason, "The token is not valid.")
        super().__init__(f"{reason}: {self.description}")


@dataclass(frozen=True)
class Expectations:
    """What a caller accepts: issuer, audiences, token types, claims, algorithms, clock skew."""

    issuer: str
    audiences: frozenset[str]
    token_types: frozenset[str]
    required_claims: frozenset[str] = frozenset({"iss", "aud", "exp", "iat", "sub"})
    algorithms: frozenset[str] = ALLOWED_ALGORITHMS
    leeway_seconds: int = 30
    max_token_bytes: int = 16_384


class KeySource(Protocol):
    """Where the verifier finds the public key for a token's ``kid`` and ``alg``."""

    async def key_for(self, kid: str | None, alg: str) -> Key | None: ...


# --- parsing ---------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:  # RFC 7515 section 5.2: a parser must reject or pick; we reject
            raise ValueError("duplicate member")
        out[name] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def b64url_decode(segment: str) -> bytes:
    """Strict unpadded base64url (RFC 7515 section 2); ValueError otherwise."""
    if not _B64URL.match(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object with unique member names and no NaN/Infinity; ValueError otherwise."""
    try:
        value = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class Compact:
    """The parts of a compact JWS, decoded but not verified."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def split_compact(token: str, *, max_bytes: int = 16_384) -> Compact:
    """Decode a compact JWS with a JSON object payload; TokenRejected("malformed") otherwise."""
    if not isinstance(token, str):
        raise TokenRejected("malformed")
    if len(token) > max_bytes:
        raise TokenRejected("too_large")
    parts = token.split(".")
    if len(parts) == 5:
        raise TokenRejected("malformed", "Encrypted tokens (JWE) are not accepted.")
    if len(parts) != 3:
        raise TokenRejected("malformed")
    try:
        header = json_object(b64url_decode(parts[0]))
        claims = json_object(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise TokenRejected("malformed") from exc
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return Compact(header, claims, signing_input, signature)


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Unverified header and claims, for routing only (bounded size; raises TokenRejected)."""
    parts = split_compact(token)
    return parts.header, parts.claims


# --- keys ------------------------------------------------------------------------------------


def key_fits(key: Key, alg: str) -> bool:
    """Whether ``key`` may verify ``alg``: its type and curve fit, and its use/alg/ops allow it.

    An RSA, EC or OKP key is never an HMAC secret: HMAC algorithms are not in the allowlist,
    and an ``oct`` key fits no algorithm here.
    """
    if alg not in ALLOWED_ALGORITHMS:
        return False
    if isinstance(key, RSAKey):
        fits = alg[:2] in ("RS", "PS") and key.public_key.key_size >= MIN_RSA_BITS
    elif isinstance(key, ECKey):
        fits = _EC_CURVES.get(alg) == key.curve_name
    elif isinstance(key, OKPKey):
        fits = alg == "EdDSA" and key.curve_name in _OKP_CURVES
    else:
        return False
    if not fits:
        return False
    if key.get("use") not in (None, "sig"):
        return False
    if key.get("alg") not in (None, alg):
        return False
    ops = key.get("key_ops")
    return ops is None or (isinstance(ops, list) and "verify" in ops)


def select_key(keys: Iterable[Key], kid: str | None, alg: str) -> Key | None:
    """The key named ``kid`` (the verifier then checks it fits ``alg``); without ``kid``, the
    only key that fits ``alg``."""
    if kid is not None:
        for key in keys:
            if key.kid == kid:
                return key
        return None
    fitting = [key for key in keys if key_fits(key, alg)]
    return fitting[0] if len(fitting) == 1 else None


def public_keys(keys: Iterable[Key]) -> list[Key]:
    """The public halves of the asymmetric signing keys among ``keys``; others are dropped."""
    out: list[Key] = []
    for key in keys:
        if not isinstance(key, RSAKey | ECKey | OKPKey):
            continue
        if key.get("use") not in (None, "sig"):
            continue
        if key.is_private:
            key = type(key).import_key(key.as_dict(private=False))
        out.append(key)
    return out


class StaticKeys:
    """A fixed key set (tests, and our own signing keys held in memory)."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = public_keys(keys)

    async def key_for(self, kid: str | None, alg: str) -> Key | None:
        return select_key(self._keys, kid, alg)


def verify_signature(parts: Compact, key: Key, alg: str) -> bool:
    """Check the signature with joserfc's algorithm (looked up directly, no warnings)."""
    model = JWSRegistry.algorithms.get(alg)
    if model is None or alg not in ALLOWED_ALGORITHMS or not key_fits(key, alg):
        return False
    try:
        return bool(model.verify(parts.signing_input, parts.signature, key))
    except (ValueError, TypeError):
        return False


# --- checks ----------------------------------------------------------------------------------


def normalize_type(value: str) -> str:
    """A ``typ`` value compared case-insensitively without the optional "application/"."""
    lowered = value.lower()
    return lowered.removeprefix("application/")


def check_header(header: dict[str, Any], expect: Expectations) -> tuple[str, str | None]:
    """The ``alg`` and ``kid`` of an acceptable header; TokenRejected otherwise."""
    if "enc" in header:
        raise TokenRejected("malformed", "Encrypted tokens (JWE) are not accepted.")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in (expect.algorithms & ALLOWED_ALGORITHMS):
        raise TokenRejected("algorithm")
    if "crit" in header:  # we understand no extension, so any crit is unacceptable
        raise TokenRejected("crit")
    if "b64" in header:
        raise TokenRejected("header", "Unencoded payloads are not accepted.")
    for name in _KEY_HEADERS:
        if name in header:
            raise TokenRejected("header", f"The '{name}' header is not accepted.")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not _KID.match(kid)):
        raise TokenRejected("header", "The 'kid' header is not valid.")
    typ = header.get("typ")
    if typ is not None and not isinstance(typ, str):
        raise TokenRejected("type")
    if normalize_type(typ or "") not in {normalize_type(t) for t in expect.token_types}:
        raise TokenRejected("type")
    return alg, kid


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected("malformed", f"The '{name}' claim is not a number.")
    return float(value)


def check_claims(claims: dict[str, Any], expect: Expectations, now: datetime) -> None:
    """Required claims, issuer, audience and times; TokenRejected otherwise."""
    for name in sorted(expect.required_claims | _ALWAYS_REQUIRED):
        if claims.get(name) is None:
            raise TokenRejected("missing_claim", f"The token lacks the '{name}' claim.")
    iss = claims["iss"]
    if not isinstance(iss, str) or iss != expect.issuer:  # exact, never a prefix
        raise TokenRejected("issuer")
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise TokenRejected("audience")
    if not expect.audiences.intersection(audiences):
        raise TokenRejected("audience")
    sub = claims.get("sub")
    if sub is not None and not isinstance(sub, str):
        raise TokenRejected("malformed", "The 'sub' claim is not a string.")
    moment = now.timestamp()
    leeway = expect.leeway_seconds
    exp, nbf, iat = (_number(claims, name) for name in _TIME_CLAIMS)
    if exp is not None and moment >= exp + leeway:
        raise TokenRejected("expired")
    if nbf is not None and nbf > moment + leeway:
        raise TokenRejected("not_yet_valid")
    if iat is not None and iat > moment + leeway:
        raise TokenRejected("issued_in_future")


async def verify_jwt(
    token: str, keys: KeySource, expect: Expectations, *, now: datetime
) -> dict[str, Any]:
    """Verified claims, or TokenRejected.

    Checks: compact JWS only (no JWE), header alg in the allowlist (never none, never HS*), the
    key's type fits the alg, no ``crit``, no ``jku``/``x5u``/``jwk``/``x5c``, ``kid`` charset,
    ``typ``, the signature, then claims: iss exact, aud, exp (required), nbf and iat not in the
    future beyond the leeway.
    """
    parts = split_compact(token, max_bytes=expect.max_token_bytes)
    alg, kid = check_header(parts.header, expect)
    key = await keys.key_for(kid, alg)
    if key is None:
        raise TokenRejected("unknown_kid")
    if not key_fits(key, alg):
        raise TokenRejected("algorithm")
    if not verify_signature(parts, key, alg):
        raise TokenRejected("signature")
    check_claims(parts.claims, expect, now)
    return parts.claims
