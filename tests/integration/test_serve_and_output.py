"""The real command: binding before starting, one line for a port in use, what it prints."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from sprintconnect import __version__
from sprintconnect.runtime import Runtime
from tests.integration.processes import CLI, cli_env, free_port, run_cli


def test_a_port_in_use_is_one_line_and_exit_1_before_anything_starts(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), env=cli_env(tmp_path, database_url))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"port {port} is in use; set SPRINTCONNECT_PORT"]
    assert result.stdout == ""


def test_a_metrics_port_in_use_names_its_setting(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = cli_env(tmp_path, database_url, SPRINTCONNECT_METRICS_PORT=str(port))
        result = run_cli("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"port {port} is in use; set SPRINTCONNECT_METRICS_PORT"
    ]


def test_listening_is_reported_once_the_socket_accepts(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = cli_env(tmp_path, database_url, SPRINTCONNECT_LOG_LEVEL="warning")
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"listening on http://127.0.0.1:{port}" in line, line
        # No retry: when the line is out, the server answers.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_separate_metrics_port_in_a_real_process(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    env = cli_env(
        tmp_path,
        database_url,
        SPRINTCONNECT_METRICS_PORT=str(metrics_port),
        SPRINTCONNECT_LOG_LEVEL="warning",
        # No jobs here: an in-process worker would take other tests' jobs from the shared
        # database and could still be finishing one when the process is told to stop.
        SPRINTCONNECT_INPROCESS_WORKER="false",
    )
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert "listening" in proc.stderr.readline()
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "sprintconnect_" in metrics.text
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/healthz").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_version_flag_and_command(tmp_path: Path) -> None:
    for args in (["--version"], ["version"]):
        result = run_cli(*args, env=cli_env(tmp_path, None))
        assert result.returncode == 0, result.stderr
        assert __version__ in result.stdout


def _bootstrap_args() -> list[str]:
    name = f"Output Org {uuid.uuid4().hex[:8]}"
    return ["admin", "bootstrap", "--org", name, "--email", "out@example.com"]


def test_commands_print_their_result_and_log_only_with_verbose(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, database_url)
    del env["SPRINTCONNECT_LOG_FORMAT"]  # the default, auto: not a terminal here, so JSON
    quiet = run_cli(*_bootstrap_args(), env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["api_key"]["key"]
    assert quiet.stderr == ""
    verbose = run_cli("--verbose", *_bootstrap_args(), env=env)
    assert verbose.returncode == 0, verbose.stderr
    assert json.loads(verbose.stdout)["api_key"]["key"]
    events = [json.loads(line)["event"] for line in verbose.stderr.splitlines()]
    assert "audit.recorded" in events


def test_logs_on_a_terminal_are_for_people(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, database_url)
    del env["SPRINTCONNECT_LOG_FORMAT"]
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*CLI, "--verbose", *_bootstrap_args()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
        )
        os.close(follower)
        stdout, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        assert json.loads(stdout)["api_key"]["key"]
        chunks = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower end is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    lines = b"".join(chunks).decode().splitlines()
    audit = [line for line in lines if "audit.recorded" in line]
    assert audit, lines
    assert not audit[0].lstrip().startswith("{")
    assert "[info" in audit[0]
