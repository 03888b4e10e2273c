"""Token validation: JWTs against cached JWKS, DPoP proofs, mTLS binding and challenges."""

from sprintconnect.identity.jose.challenge import bearer_challenge, dpop_challenge
from sprintconnect.identity.jose.dpop import (
    DpopProof,
    DpopRejected,
    DpopVerifier,
    MemoryReplayCache,
    NonceSource,
    RedisReplayCache,
    ReplayCache,
    access_token_hash,
    build_replay_cache,
    jwk_thumbprint,
    normalize_htu,
)
from sprintconnect.identity.jose.errors import InvalidDpopProof, InvalidToken
from sprintconnect.identity.jose.jwks import JwksCache, fetch_json, parse_key_set
from sprintconnect.identity.jose.mtls import certificate_thumbprint
from sprintconnect.identity.jose.verify import (
    ALLOWED_ALGORITHMS,
    Expectations,
    KeySource,
    StaticKeys,
    TokenRejected,
    peek,
    verify_jwt,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DpopProof",
    "DpopRejected",
    "DpopVerifier",
    "Expectations",
    "InvalidDpopProof",
    "InvalidToken",
    "JwksCache",
    "KeySource",
    "MemoryReplayCache",
    "NonceSource",
    "RedisReplayCache",
    "ReplayCache",
    "StaticKeys",
    "TokenRejected",
    "access_token_hash",
    "bearer_challenge",
    "build_replay_cache",
    "certificate_thumbprint",
    "dpop_challenge",
    "fetch_json",
    "jwk_thumbprint",
    "normalize_htu",
    "parse_key_set",
    "peek",
    "verify_jwt",
]
