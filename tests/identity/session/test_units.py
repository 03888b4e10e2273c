"""Pure parts of sign-in: provider metadata, sealing, return_to, the step-up challenge."""

from __future__ import annotations

import uuid

import pytest

from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.links import safe_return_to
from sprintconnect.identity.session.provider import ProviderUnavailable, parse_metadata
from sprintconnect.identity.session.stepup import step_up_challenge
from sprintconnect.identity.session.store import seal, unseal
from sprintconnect.kit.secrets import KeyRing

ISSUER = "https://idp.example"
GOOD = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
}


def test_metadata_fields_and_client_authentication() -> None:
    basic = parse_metadata(ISSUER, GOOD)
    assert basic.token_auth_method == "client_secret_basic"
    assert basic.end_session_endpoint is None
    post = parse_metadata(
        ISSUER,
        {
            **GOOD,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            "end_session_endpoint": f"{ISSUER}/logout",
        },
    )
    assert post.token_auth_method == "client_secret_post"
    assert post.algorithms == frozenset({"RS256"})  # never HS256 or none
    assert post.end_session_endpoint == f"{ISSUER}/logout"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({**GOOD, "issuer": ISSUER + "/"}, "issuer_mismatch"),
        ({**GOOD, "issuer": "https://idp.example.evil"}, "issuer_mismatch"),
        ({k: v for k, v in GOOD.items() if k != "jwks_uri"}, "metadata_incomplete"),
        ({**GOOD, "token_endpoint": "file:///etc/passwd"}, "metadata_incomplete"),
        ({**GOOD, "id_token_signing_alg_values_supported": ["HS256", "none"]}, "algorithms"),
    ],
)
def test_unusable_metadata_is_refused(document: dict[str, object], reason: str) -> None:
    with pytest.raises(ProviderUnavailable) as refused:
        parse_metadata(ISSUER, document)
    assert refused.value.reason == reason


def test_sealed_tokens_open_only_for_their_session() -> None:
    keyring = KeyRing(b"k" * 40)
    session_id, other = uuid.uuid4(), uuid.uuid4()
    sealed = seal(keyring, session_id, "refresh-token-value")
    assert sealed is not None
    assert b"refresh-token-value" not in sealed
    assert unseal(keyring, session_id, sealed) == "refresh-token-value"
    assert unseal(keyring, other, sealed) is None
    assert unseal(KeyRing(b"x" * 40), session_id, sealed) is None
    assert unseal(keyring, session_id, sealed[:-1] + bytes([sealed[-1] ^ 1])) is None


@pytest.mark.parametrize("target", ["/", "/servers?x=1", "/oauth/authorize?client_id=a&b=c"])
def test_return_to_accepts_paths_of_this_site(target: str) -> None:
    assert safe_return_to(target) == target


def test_return_to_refuses_everything_else() -> None:
    for target in ("//x", "http://x/", "x", "/\\x", "/a\tb", "/" + "a" * 2001):
        with pytest.raises(SignInFailed):
            safe_return_to(target)


def test_step_up_challenge_follows_rfc_9470() -> None:
    assert step_up_challenge(300, None) == (
        'Bearer realm="sprintconnect", error="insufficient_user_authentication", '
        'error_description="A more recent sign-in is required", max_age=300'
    )
    assert step_up_challenge(60, 'urn:mace:"x"').endswith('acr_values="urn:mace:\\"x\\""')
