"""Rendering and signing, without the network."""

from __future__ import annotations

import pytest

from sprintconnect.notification.channels import render, secret_key, sign, slack_body

# The Standard Webhooks specification's known-answer vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_standard_webhooks_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_signature_changes_with_each_part() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY) != VECTOR_SIGNATURE
    assert sign(VECTOR_SECRET, "msg_other", VECTOR_TIMESTAMP, VECTOR_BODY) != VECTOR_SIGNATURE
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, b"{}") != VECTOR_SIGNATURE


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ=", "whsec_"],
)
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="must"):
        secret_key(secret)


def test_notice_names_server_environment_and_status() -> None:
    notice = render(
        "server.health.unhealthy",
        {
            "server_id": "7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13",
            "server_name": "weather\r\nBcc: victim@example.com",
            "environment": "production",
            "status": "unhealthy",
            "previous_status": "healthy",
            "at": "2026-11-28T10:00:00+00:00",
            "error_class": "timeout",
            "message": "no answer within 15 s",
            "failure_streak": 1,
        },
    )
    assert "weather" in notice.subject
    assert "unhealthy" in notice.subject
    assert "production" in notice.subject
    assert "\r" not in notice.subject
    assert "\n" not in notice.subject
    assert "timeout: no answer within 15 s" in notice.text
    assert slack_body(notice)["text"] == notice.subject
    recovered = render("server.health.recovered", {"server_name": "weather", "status": "healthy"})
    assert "recovered" in recovered.subject
