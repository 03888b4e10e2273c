"""Path and value validation, and the redacting value type (no store needed)."""

from __future__ import annotations

import pytest

from sprintconnect.secret import InvalidSecretPath, InvalidSecretValue, SecretValue, validate_path
from sprintconnect.secret.store import decode_value, encode_value, validate_value


@pytest.mark.parametrize(
    "path",
    ["a", "servers/3f1c2b7e-0000-4000-8000-000000000000/oauth", "A.b_c-d/e..f", "x" * 128],
)
def test_good_paths(path: str) -> None:
    assert validate_path(path) == path


@pytest.mark.parametrize(
    "path",
    ["", "..", "a/..", "a/.", ".hidden", "-dash", "_under", "a b", "a\tb", "a\u200bb", "a:b"],
)
def test_bad_paths(path: str) -> None:
    with pytest.raises(InvalidSecretPath):
        validate_path(path)


def test_path_errors_show_a_bounded_printable_path() -> None:
    with pytest.raises(InvalidSecretPath) as caught:
        validate_path("x\x1b[2J" + "y" * 1000)
    detail = str(caught.value)
    assert "\x1b" not in detail
    assert len(detail) < 300


def test_value_round_trips_canonically() -> None:
    fields = {"b": "2", "a": "ü\x00\n\"'"}
    encoded = encode_value(fields)
    assert encoded == encode_value(dict(reversed(fields.items())))
    assert decode_value(encoded) == fields


@pytest.mark.parametrize("data", [b"\xff", b"[]", b'{"a": 1}', b"not json", b'{"a": ["x"]}'])
def test_foreign_bytes_do_not_decode(data: bytes) -> None:
    assert decode_value(data) is None


def test_value_errors_name_fields_never_values() -> None:
    with pytest.raises(InvalidSecretValue, match="'count'") as caught:
        validate_value({"count": 12345678})  # type: ignore[dict-item]
    assert "12345678" not in str(caught.value)
    with pytest.raises(InvalidSecretValue, match="Unicode") as caught:
        validate_value({"k": "lone-\ud800-surrogate"})
    assert "surrogate" not in str(caught.value)
    with pytest.raises(InvalidSecretValue, match="at most 100"):
        validate_value({f"k{i}": "v" for i in range(101)})


def test_secret_value_hides_itself() -> None:
    value = SecretValue({"token": "hunter2-very-secret"})
    for shown in (repr(value), str(value), f"{value}", f"{value!r}", "%s" % (value,)):  # noqa: UP031
        assert "hunter2" not in shown
        assert "redacted" in shown
    assert value["token"] == "hunter2-very-secret"
    assert value.reveal() == {"token": "hunter2-very-secret"}
    assert value == {"token": "hunter2-very-secret"}
    assert list(value) == ["token"]
    assert len(value) == 1
