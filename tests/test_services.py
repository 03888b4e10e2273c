"""Finding test services: a PostgreSQL refusing the passwordless login means the embedded one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import services


def test_a_role_the_server_refuses_is_reported() -> None:
    if not services.port_open("127.0.0.1", 5432):
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 to refuse anything")
    refusal = services.connection_refusal("postgresql://no_such_role_here@127.0.0.1:5432/postgres")
    assert refusal is not None
    assert "no_such_role_here" in refusal


def test_a_refused_passwordless_login_falls_back_to_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The machine's pg_hba.conf cannot be changed from a test: the refusal is stood in for.
    monkeypatch.delenv("SPRINTCONNECT_TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(services, "FORCE_EMBEDDED", False)
    monkeypatch.setattr(services, "REQUIRE_SERVICES", False)
    monkeypatch.setattr(services, "port_open", lambda host, port: True)
    monkeypatch.setattr(
        services, "connection_refusal", lambda url: 'password authentication failed for "postgres"'
    )
    monkeypatch.setattr(services, "embedded_url", lambda scratch: f"embedded:{scratch}")
    with pytest.warns(UserWarning, match="SPRINTCONNECT_TEST_DATABASE_URL"):
        url, source = services.admin_url(tmp_path)
    assert (url, source) == (f"embedded:{tmp_path}", "embedded")
    monkeypatch.setattr(services, "REQUIRE_SERVICES", True)
    with pytest.raises(RuntimeError, match="refused"):
        services.admin_url(tmp_path)
