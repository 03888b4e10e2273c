"""The embedded PostgreSQL after a ``kill -9``: stale pids are cleared, clean stops stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.integration.processes import cli_env, run_cli, start_serve


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _postgres_running(pgdata: Path) -> list[int]:
    """Pids of postmasters serving ``pgdata`` (a postmaster's working directory is its data)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] != "postgres" or Path(proc.cwd()) != pgdata:
                continue
            parent = proc.parent()
            if parent is None or parent.name() != "postgres":
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _wait_gone(pid: int, timeout: float = 30) -> bool:
    try:
        psutil.Process(pid).wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        return False
    return True


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = cli_env(tmp_path / "data", None, SPRINTCONNECT_INPROCESS_WORKER="false")
    migrated = run_cli("migrate", env=env, timeout=180)
    assert migrated.returncode == 0, migrated.stderr
    return env


def _pgdata(env: dict[str, str]) -> Path:
    return (Path(env["SPRINTCONNECT_DATA_DIR"]) / "postgres").resolve()


def test_after_kill_9_a_clean_stop_stops_postgres(env: dict[str, str]) -> None:
    pgdata = _pgdata(env)
    assert _postgres_running(pgdata) == []  # migrate stopped what it started

    crashed, _ = start_serve(env, timeout=120)
    orphan = _postmaster_pid(pgdata)
    assert orphan is not None
    assert _postgres_running(pgdata) == [orphan]
    crashed.send_signal(signal.SIGKILL)
    crashed.wait()
    assert psutil.pid_exists(orphan)  # left behind, with its holder's pid on record

    proc, base = start_serve(env, timeout=120)
    try:
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        assert len(_postgres_running(pgdata)) == 1
    finally:
        _stop(proc)
    assert _wait_gone(orphan)
    assert _postgres_running(pgdata) == []
    assert not (pgdata / "postmaster.pid").exists()


def test_postmaster_pid_naming_a_live_stranger_is_cleared(env: dict[str, str]) -> None:
    pgdata = _pgdata(env)
    # What a crash of both processes leaves, after the pid was reused by something else.
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        lines = [str(stranger.pid), str(pgdata), str(int(time.time())), "5432", str(pgdata)]
        lines += ["", "  5432001         0", "ready   "]
        (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
        proc, base = start_serve(env, timeout=120)
        try:
            assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        finally:
            _stop(proc)
        assert stranger.poll() is None  # not ours: never signalled
        assert _postgres_running(pgdata) == []
    finally:
        stranger.kill()
        stranger.wait()


def test_postgres_killed_too_leaves_a_stale_pid_that_is_cleared(env: dict[str, str]) -> None:
    pgdata = _pgdata(env)
    crashed, _ = start_serve(env, timeout=120)
    postmaster = _postmaster_pid(pgdata)
    assert postmaster is not None
    crashed.send_signal(signal.SIGKILL)
    crashed.wait()
    os.kill(postmaster, signal.SIGKILL)
    assert _wait_gone(postmaster)
    assert (pgdata / "postmaster.pid").exists()

    proc, base = start_serve(env, timeout=120)
    try:
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
    finally:
        _stop(proc)
    assert _postgres_running(pgdata) == []
