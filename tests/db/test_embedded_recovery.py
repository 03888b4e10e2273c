"""What a crash leaves in an embedded data dir, cleared before pgserver starts or joins it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sprintconnect.db import embedded


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not a postgres (what a reused pid points to)."""
    proc = subprocess.Popen(["sleep", "120"])
    yield proc
    proc.kill()
    proc.wait()


def _write_postmaster_pid(pgdata: Path, pid: int | str) -> None:
    lines = [str(pid), str(pgdata), str(int(time.time())), "5432", str(pgdata), "", "1 0", "ready"]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")


def test_dead_holders_are_forgotten(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / embedded.HOLDERS_FILE).write_text(json.dumps([dead, os.getpid()]))
    assert embedded._forget_dead_holders(tmp_path) == [os.getpid()]
    assert json.loads((tmp_path / embedded.HOLDERS_FILE).read_text()) == [os.getpid()]


def test_a_garbled_holders_record_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / embedded.HOLDERS_FILE).write_text("{not json")
    assert embedded._forget_dead_holders(tmp_path) == []


@pytest.mark.parametrize("content", ["dead", "garbage", "empty"])
def test_a_stale_postmaster_pid_is_removed(tmp_path: Path, content: str) -> None:
    if content == "dead":
        _write_postmaster_pid(tmp_path, _dead_pid())
    elif content == "garbage":
        (tmp_path / "postmaster.pid").write_text("not a pid\n")
    else:
        (tmp_path / "postmaster.pid").write_text("")
    embedded._recover(tmp_path)
    assert not (tmp_path / "postmaster.pid").exists()


def test_a_postmaster_pid_naming_a_live_stranger_is_removed_and_the_stranger_spared(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    _write_postmaster_pid(tmp_path, stranger.pid)
    (tmp_path / embedded.HOLDERS_FILE).write_text(json.dumps([os.getpid()]))
    embedded._recover(tmp_path)
    assert not (tmp_path / "postmaster.pid").exists()
    assert stranger.poll() is None


def test_nothing_to_clear_leaves_the_dir_alone(tmp_path: Path) -> None:
    embedded._recover(tmp_path)
    assert list(tmp_path.iterdir()) == []
