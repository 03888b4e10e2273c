"""Request line and header limits on a real ``sprintconnect serve``: ours answer problem+json."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from sprintconnect.kit.input import MAX_HEADER_BYTES, MAX_URL_BYTES
from sprintconnect.ops.http_protocol import MAX_INCOMPLETE_HEAD_BYTES as HARD_LIMIT
from sprintconnect.runtime import Runtime
from tests.integration.processes import cli_env, serving


@pytest.fixture(scope="module")
def base(
    runtime: Runtime, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = cli_env(Path(tmp_path_factory.mktemp("limits")), database_url)
    with serving(env) as url:
        yield url


def _raw(base: str, head: bytes, *, complete: bool = True) -> bytes:
    """Send a raw request head (asking the server to close) and read the whole answer.

    ``complete=False`` sends ``head`` as it is: the start of a head the server never sees end.
    """
    parts = urlsplit(base)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + b"Connection: close\r\n\r\n" if complete else head)
        chunks: list[bytes] = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_headers_just_over_our_limit_are_431_problem(base: str) -> None:
    filler = "a" * (MAX_HEADER_BYTES + 100)
    assert MAX_HEADER_BYTES + 100 < HARD_LIMIT
    response = httpx.get(f"{base}/healthz", headers={"X-Filler": filler})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/headers-too-large"
    assert response.headers["x-request-id"]


def test_many_small_headers_over_our_limit_are_431_problem(base: str) -> None:
    headers = [(f"x-h{i}", "v" * 100) for i in range(MAX_HEADER_BYTES // 100 + 10)]
    response = httpx.get(f"{base}/healthz", headers=headers)
    assert response.status_code == 431
    assert response.json()["max_header_bytes"] == MAX_HEADER_BYTES


def test_url_just_over_our_limit_is_414_problem(base: str) -> None:
    response = httpx.get(f"{base}/api/v1/servers", params={"q": "x" * (MAX_URL_BYTES + 10)})
    assert response.status_code == 414
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/uri-too-long"


def test_nul_in_the_query_of_a_real_request_is_422_problem(base: str) -> None:
    answer = _raw(base, b"GET /api/v1/servers?q=a%00b HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 422 ")
    assert b"application/problem+json" in answer


def test_beyond_the_hard_limit_the_server_answers_plain_400_and_keeps_serving(base: str) -> None:
    # Documented: the HTTP server refuses this before our code runs, in plain text. It checks
    # its limit while a head is still arriving, so this head never ends.
    filler = b"a" * (HARD_LIMIT + 1024)
    answer = _raw(base, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + filler, complete=False)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"text/plain" in answer.lower()
    assert httpx.get(f"{base}/healthz").status_code == 200


def test_nul_in_a_header_is_refused_by_the_http_server(base: str) -> None:
    # The HTTP parser refuses control characters in header values before the app runs;
    # the app's own header check covers servers that pass them through.
    answer = _raw(base, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Agent: a\x00b\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert httpx.get(f"{base}/healthz").status_code == 200
