"""The Standard Webhooks scheme: the published known-answer vector, secrets we generate."""

from __future__ import annotations

import base64

import pytest
from standardwebhooks.webhooks import Webhook

from sprintconnect.kit.signing import SECRET_PREFIX, new_secret, secret_key, sign
from sprintconnect.webhook import catalog, sender

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_known_answer_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG


def test_two_secrets_give_two_signatures_that_each_verify() -> None:
    other = new_secret()
    value = sender.signature([VECTOR_SECRET, other], VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    first, second = value.split(" ")
    assert first == VECTOR_SIG
    assert second == sign(other, VECTOR_ID, VECTOR_TS, VECTOR_BODY)


def test_generated_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(base64.b64decode(secret[len(SECRET_PREFIX) :])) == 32
        assert len(secret_key(secret)) == 32
        Webhook(secret)  # the library accepts it


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "server.health.unhealthy", True),
        ("server.*", "server.health.unhealthy", True),
        ("server.*", "server.registered", True),
        ("server.health.*", "server.registered", False),
        ("server.health.unhealthy", "server.health.unhealthy", True),
        ("server.health.unhealthy", "server.health.degraded", False),
        ("api_key.*", "api_key.created", True),
        ("api_key.*", "audit.checkpoint", False),
        ("role.*", "role.assigned", True),
        ("policy.*", "policy.published", True),
        ("audit.checkpoint", "audit.checkpoint", True),
        ("serv*", "server.registered", False),
    ],
)
def test_patterns_select(pattern: str, event_type: str, expected: bool) -> None:
    assert catalog.matches([pattern], event_type) is expected


@pytest.mark.parametrize(
    "pattern",
    ["server.*", "server.health.*", "*", "api_key.*", "role.*", "policy.*", "audit.checkpoint"],
)
def test_documented_patterns_are_valid(pattern: str) -> None:
    assert catalog.pattern_problem(pattern) is None


@pytest.mark.parametrize(
    "pattern", ["", "server", "server.", "serv*", "*.created", "server.**", "nope.*", "x" * 300]
)
def test_unknown_patterns_are_refused(pattern: str) -> None:
    assert catalog.pattern_problem(pattern) is not None


def test_every_audit_mapping_names_an_existing_tag() -> None:
    from sprintconnect.audit.tags import AuditTag

    assert set(catalog.AUDIT_TYPES) <= {t.value for t in AuditTag}
