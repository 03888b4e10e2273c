"""JWT verification: TESTING.md's JWT list, each item rejected, plus the controls that pass."""

from __future__ import annotations

import json
from typing import Any

import pytest
from joserfc.jwk import Key, KeySet, OctKey, RSAKey

from sprintconnect.identity.jose import (
    ALLOWED_ALGORITHMS,
    Expectations,
    StaticKeys,
    TokenRejected,
    peek,
    verify_jwt,
)
from tests.identity.jose import support as s

ACCESS = Expectations(
    issuer=s.ISSUER, audiences=frozenset({s.AUDIENCE}), token_types=frozenset({"at+jwt"})
)
ID_TOKEN = Expectations(
    issuer=s.ISSUER,
    audiences=frozenset({"client-1"}),
    token_types=frozenset({"jwt", ""}),
)

RSA = s.rsa("rsa-1")
EC = s.ec("ec-1")
EC384 = s.ec("ec-384", "P-384")
ED = s.ed("ed-1")
KEYS = StaticKeys(s.key_set(RSA, EC, EC384, ED))


async def verify(token: str, expect: Expectations = ACCESS, keys: Any = KEYS) -> dict[str, Any]:
    return await verify_jwt(token, keys, expect, now=s.NOW)


async def rejected(token: str, expect: Expectations = ACCESS, keys: Any = KEYS) -> str:
    with pytest.raises(TokenRejected) as info:
        await verify(token, expect, keys)
    assert "eyJ" not in info.value.description  # never echoes the token
    return info.value.reason


# --- controls --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (RSA, "RS256"),
        (RSA, "RS384"),
        (RSA, "RS512"),
        (RSA, "PS256"),
        (RSA, "PS384"),
        (RSA, "PS512"),
        (EC, "ES256"),
        (EC384, "ES384"),
        (ED, "EdDSA"),
    ],
)
async def test_every_allowed_algorithm_verifies(key: Key, alg: str) -> None:
    token = s.sign(key, s.claims(), alg=alg)
    assert (await verify(token))["sub"] == "user-1"


def test_allowlist_is_asymmetric_only() -> None:
    expected = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
    assert expected == ALLOWED_ALGORITHMS


async def test_audience_list_containing_ours_is_accepted() -> None:
    token = s.sign(EC, s.claims(aud=["other", s.AUDIENCE]))
    assert (await verify(token))["aud"] == ["other", s.AUDIENCE]


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
async def test_typ_is_compared_case_insensitively_without_application_prefix(typ: str) -> None:
    assert await verify(s.sign(EC, s.claims(), typ=typ))


async def test_leeway_accepts_small_clock_skew() -> None:
    token = s.sign(EC, s.claims(exp=s.T - 20, iat=s.T + 20, nbf=s.T + 20))
    assert await verify(token)


async def test_id_token_accepted_where_id_tokens_are_expected() -> None:
    assert await verify(s.sign(EC, s.claims(aud="client-1"), typ="JWT"), ID_TOKEN)
    assert await verify(s.sign(EC, s.claims(aud="client-1"), typ=None), ID_TOKEN)


async def test_peek_reads_without_verifying() -> None:
    header, claims = peek(s.sign(EC, s.claims(), alg="ES256"))
    assert header["kid"] == "ec-1"
    assert claims["iss"] == s.ISSUER


# --- TESTING.md JWT list -----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none(alg: str) -> None:
    token = s.unsigned({"alg": alg, "typ": "at+jwt", "kid": "ec-1"}, s.claims())
    assert await rejected(token) == "algorithm"


async def test_hs256_signed_with_the_rsa_public_key() -> None:
    assert await rejected(s.hs256_with_public_key(RSA, s.claims())) == "algorithm"


async def test_hs256_refused_even_if_the_caller_lists_it() -> None:
    widened = Expectations(
        issuer=s.ISSUER,
        audiences=frozenset({s.AUDIENCE}),
        token_types=frozenset({"at+jwt"}),
        algorithms=frozenset({"HS256", "ES256"}),
    )
    secret = OctKey.generate_key(256, parameters={"kid": "hmac"})
    token = s.raw_sign(secret, {"alg": "HS256", "typ": "at+jwt", "kid": "hmac"}, s.claims())
    assert await rejected(token, widened, StaticKeys(KeySet([secret]))) == "algorithm"


async def test_key_without_kid_is_chosen_only_when_exactly_one_fits() -> None:
    only_ec = StaticKeys(s.key_set(RSA, EC))
    assert await verify(s.sign(EC, s.claims(), kid=None), keys=only_ec)
    two_ec = StaticKeys(s.key_set(EC, s.ec("ec-2")))
    assert await rejected(s.sign(EC, s.claims(), kid=None), keys=two_ec) == "unknown_kid"


async def test_encryption_and_symmetric_keys_are_never_used() -> None:
    enc = s.ec("enc-1")
    enc_only = StaticKeys(KeySet([type(enc).import_key(enc.as_dict(), {"use": "enc"})]))
    assert await rejected(s.sign(enc, s.claims()), keys=enc_only) == "unknown_kid"
    secret = OctKey.generate_key(256, parameters={"kid": "ec-1"})
    assert await rejected(s.sign(EC, s.claims()), keys=StaticKeys(KeySet([secret]))) == (
        "unknown_kid"
    )


@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")  # joserfc warns too
async def test_short_rsa_keys_are_refused() -> None:
    weak = RSAKey.generate_key(1024, parameters={"kid": "weak"})
    keys = StaticKeys(KeySet([weak]))
    token = s.sign(weak, s.claims(), alg="RS256")
    assert await rejected(token, keys=keys) == "algorithm"


async def test_caller_can_narrow_algorithms() -> None:
    narrow = Expectations(
        issuer=s.ISSUER,
        audiences=frozenset({s.AUDIENCE}),
        token_types=frozenset({"at+jwt"}),
        algorithms=frozenset({"ES256"}),
    )
    assert await rejected(s.sign(RSA, s.claims(), alg="RS256"), narrow) == "algorithm"


_CURVES = {"ES256": "P-256", "ES384": "P-384"}


@pytest.mark.parametrize(
    ("key", "alg"),
    [(RSA, "ES256"), (EC, "RS256"), (EC, "ES384"), (EC384, "ES256"), (ED, "ES256")],
)
async def test_key_type_must_fit_the_algorithm(key: Key, alg: str) -> None:
    # The header claims an algorithm the named key cannot verify: the signature is made with
    # a key of the claimed type under the same kid, so only the type check can stop it.
    kid = key.kid or ""
    forged_key: Key = s.rsa(kid) if alg == "RS256" else s.ec(kid, _CURVES[alg])
    token = s.sign(forged_key, s.claims(), alg=alg)
    assert await rejected(token) == "algorithm"


@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["urn:example:unknown"], []])
async def test_unknown_crit(crit: list[str]) -> None:
    assert await rejected(s.sign(EC, s.claims(), crit=crit)) == "crit"


@pytest.mark.parametrize("claim", ["exp", "aud", "iss"])
async def test_missing_required_claim(claim: str) -> None:
    token = s.sign(EC, s.claims(**{claim: None}))
    assert await rejected(token) == "missing_claim"


async def test_exp_required_even_if_caller_forgets_it() -> None:
    lax = Expectations(
        issuer=s.ISSUER,
        audiences=frozenset({s.AUDIENCE}),
        token_types=frozenset({"at+jwt"}),
        required_claims=frozenset(),
    )
    assert await rejected(s.sign(EC, s.claims(exp=None)), lax) == "missing_claim"


@pytest.mark.parametrize("claim", ["sub", "iat"])
async def test_missing_default_required_claims(claim: str) -> None:
    assert await rejected(s.sign(EC, s.claims(**{claim: None}))) == "missing_claim"


async def test_expired() -> None:
    assert await rejected(s.sign(EC, s.claims(exp=s.T - 31))) == "expired"


async def test_nbf_in_future() -> None:
    assert await rejected(s.sign(EC, s.claims(nbf=s.T + 31))) == "not_yet_valid"


async def test_iat_in_future() -> None:
    assert await rejected(s.sign(EC, s.claims(iat=s.T + 31))) == "issued_in_future"


@pytest.mark.parametrize("value", ["1795000000", True, [1], {"a": 1}])
async def test_time_claims_must_be_numbers(value: Any) -> None:
    assert await rejected(s.sign(EC, s.claims(exp=value))) == "malformed"


@pytest.mark.parametrize("aud", ["https://other.example", ["a", "b"], [], 7, [7]])
async def test_wrong_audience(aud: Any) -> None:
    assert await rejected(s.sign(EC, s.claims(aud=aud))) == "audience"


@pytest.mark.parametrize(
    "iss",
    [
        s.ISSUER + ".evil.example",
        s.ISSUER + "/",
        s.ISSUER + "/tenant",
        s.ISSUER[:-1],
        s.ISSUER.upper(),
        ["https://issuer.example"],
    ],
)
async def test_issuer_sharing_a_prefix_or_otherwise_different(iss: Any) -> None:
    assert await rejected(s.sign(EC, s.claims(iss=iss))) == "issuer"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt", None, "dpop+jwt", "at+jwt2"])
async def test_id_token_presented_as_access_token(typ: str | None) -> None:
    assert await rejected(s.sign(EC, s.claims(), typ=typ)) == "type"


async def test_access_token_presented_as_id_token() -> None:
    assert await rejected(s.sign(EC, s.claims(aud="client-1")), ID_TOKEN) == "type"


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "ec-1/../ec-1",
        "ec-1' OR '1'='1",
        "ec-1;--",
        'ec-1"',
        "ec-1\x00",
        "ec 1",
        "",
        "k" * 129,
        7,
        ["ec-1"],
    ],
)
async def test_kid_with_path_or_sql_characters(kid: Any) -> None:
    assert await rejected(s.sign(EC, s.claims(), kid=kid)) == "header"


async def test_unknown_kid() -> None:
    stranger = s.ec("not-published")
    assert await rejected(s.sign(stranger, s.claims())) == "unknown_kid"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("jwk", "embedded"),
        ("x5c", ["MIIB..."]),
    ],
)
async def test_key_location_headers_refused(name: str, value: Any) -> None:
    attacker = s.ec("ec-1")  # same kid as a published key, different key material
    if value == "embedded":
        value = attacker.as_dict(private=False)
    token = s.sign(attacker, s.claims(), **{name: value})
    assert await rejected(token) == "header"


async def test_embedded_jwk_of_the_right_key_is_still_refused() -> None:
    token = s.sign(EC, s.claims(), jwk=EC.as_dict(private=False))
    assert await rejected(token) == "header"


async def test_key_retired_after_rotation() -> None:
    old, new = s.ec("2026-01"), s.ec("2026-02")
    token = s.sign(old, s.claims())
    assert await verify(token, keys=StaticKeys(s.key_set(old, new)))
    assert await rejected(token, keys=StaticKeys(s.key_set(new))) == "unknown_kid"


async def test_signature_tampered_payload() -> None:
    token = s.sign(EC, s.claims())
    header, _payload, signature = token.split(".")
    forged = s.b64(json.dumps(s.claims(sub="admin")))
    assert await rejected(f"{header}.{forged}.{signature}") == "signature"


async def test_signature_by_another_key_with_the_published_kid() -> None:
    assert await rejected(s.sign(s.ec("ec-1"), s.claims())) == "signature"


async def test_empty_signature() -> None:
    token = s.sign(EC, s.claims())
    assert await rejected(token.rsplit(".", 1)[0] + ".") == "signature"


# --- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "....",  # 5 parts: JWE shape
        "e30.e30.e30.e30.e30",
        "!!!.e30.",
        "e30=.e30.",  # padded base64 is not base64url
        "e30.W10.",  # payload is a JSON array
        s.b64('{"alg":"ES256","alg":"none"}') + ".e30.",  # duplicate member
        s.b64('{"alg":"ES256"}') + "." + s.b64('{"exp":NaN}') + ".",
        s.b64(b"\xff\xfe") + ".e30.",
    ],
)
async def test_malformed(token: str) -> None:
    assert await rejected(token) == "malformed"


async def test_jwe_header_refused() -> None:
    token = s.unsigned({"alg": "RSA-OAEP", "enc": "A256GCM"}, {})
    assert await rejected(token) in {"malformed", "algorithm"}


async def test_oversized_token() -> None:
    token = s.sign(EC, s.claims(pad="x" * 20_000))
    assert await rejected(token) == "too_large"


def test_peek_is_bounded() -> None:
    with pytest.raises(TokenRejected):
        peek("e30." * 10_000)


async def test_non_string_token() -> None:
    assert await rejected(b"abc.def.ghi") == "malformed"  # type: ignore[arg-type]
