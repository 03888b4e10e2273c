"""No input, however nested or large within the body limit, ends the process.

Hypothesis throws deeply nested and degenerate input at every endpoint that parses a language
or a structure: Cedar policy text (publish, dry-run drafts), JSON bodies, pagination cursors,
and tool schemas from a malicious MCP server. The server is a real ``sprintconnect serve`` in
a child process, so a crash fails the test (the process is gone, connections are refused)
instead of killing the test runner. After every example the process must still be alive and
must have answered below 500.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests import services
from tests.discovery.servers import DeepSchemas, changing_server, streamable
from tests.discovery.servers import serving as serving_mcp
from tests.integration.processes import cli_env, run_cli, serving

# Modest counts: the whole file runs in well under a minute on a loaded 2-core machine, and
# ``derandomize`` makes every run (and CI) try the same examples.
FAST = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=4)

WHEN = "forbid (principal, action, resource) when {{ {} }};"
CLOSING = {"(": ")", "[": "]", "{": "}"}


@dataclass
class Live:
    """A serving process, a client with an org admin's key, and a malicious MCP server."""

    http: httpx.Client
    headers: dict[str, str]
    log_dir: Path
    schemas: DeepSchemas
    server_id: str


def _bootstrap(env: dict[str, str], name: str) -> dict[str, str]:
    boot = run_cli("admin", "bootstrap", "--org", name, "--email", f"{name}@example.com", env=env)
    assert boot.returncode == 0, boot.stderr
    return {"Authorization": f"Bearer {json.loads(boot.stdout)['api_key']['key']}"}


@pytest.fixture(scope="module")
def live(pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # A database of its own: the server's in-process worker must not run jobs that other
    # tests queued (and never ran) in the shared one.
    database_url = services.create_database(pg_admin, prefix="sc_crash")
    try:
        yield from _live(database_url, tmp_path_factory.mktemp("crash"))
    finally:
        services.drop_database(pg_admin, database_url)


def _live(database_url: str, data_dir: Path) -> Iterator[Live]:
    env = cli_env(
        data_dir,
        database_url,
        SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK="true",
        SPRINTCONNECT_API_KEY_RATE_LIMIT="100000/minute",
        SPRINTCONNECT_ORG_RATE_LIMIT="100000/minute",
        SPRINTCONNECT_OUTBOX_POLL_SECONDS="0.05",
        SPRINTCONNECT_WORKER_HEARTBEAT_SECONDS="0.5",
        SPRINTCONNECT_DISCOVERY_TIMEOUT_SECONDS="8",
        SPRINTCONNECT_MCP_CONNECT_TIMEOUT_SECONDS="5",
    )
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    headers = _bootstrap(env, "crash-probe")
    schemas = DeepSchemas(streamable(changing_server("deep-schemas"), json_response=True))
    with (
        serving_mcp(schemas) as mcp_base,
        serving(env) as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        registered = http.post(
            "/api/v1/servers",
            json={"name": "deep-schemas", "url": f"{mcp_base}/mcp", "environment": "staging"},
            headers=headers,
        )
        assert registered.status_code == 201, registered.text
        server_id = registered.json()["server"]["id"]
        live = Live(http, headers, data_dir, schemas, server_id)
        _settle(live, _first_discovery(registered.json()))
        yield live


def _first_discovery(registered: dict[str, Any]) -> str:
    step = next(s for s in registered["next_steps"] if "discoveries/" in s)
    return str(step.rsplit("/", 1)[1])


def _log_tail(live: Live) -> str:
    logs = sorted(live.log_dir.glob("serve-*.log"))
    return logs[-1].read_text()[-3000:] if logs else "(no log)"


def _call(live: Live, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; the process must answer it below 500 and still be alive afterwards."""
    try:
        response = live.http.request(method, path, **kwargs)
        alive = live.http.get("/healthz")
    except httpx.TransportError as exc:
        pytest.fail(f"the server stopped answering ({exc!r}); it crashed?\n{_log_tail(live)}")
    assert alive.status_code == 200, alive.text
    assert response.status_code < 500, (method, path, response.status_code, response.text[:500])
    return response


def _settle(live: Live, discovery_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 40
    while True:
        body: dict[str, Any] = _call(
            live, "GET", f"/api/v1/discoveries/{discovery_id}", headers=live.headers
        ).json()
        if body["status"] not in ("queued", "in_progress"):
            return body
        assert time.monotonic() < deadline, f"discovery still {body['status']}: {body}"
        time.sleep(0.1)


# --- policy text ---------------------------------------------------------------------------


@st.composite
def policy_texts(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=1, max_value=5000))
    shape = draw(
        st.sampled_from(["brackets", "ifs", "unary", "chain", "strings", "comments", "noise"])
    )
    if shape == "brackets":
        pattern = draw(st.text(alphabet="([{", min_size=1, max_size=6))
        opening = (pattern * (depth // len(pattern) + 1))[:depth]
        body = opening + "true" + "".join(CLOSING[c] for c in reversed(opening))
    elif shape == "ifs":
        body = "if true then " * depth + "true" + " else false" * depth
    elif shape == "unary":
        body = draw(st.sampled_from(["!", "-", "! ", "- ", "!(", "-("])) * depth + "1"
    elif shape == "chain":
        start, link = draw(
            st.sampled_from(
                [
                    ("context", ".a"),
                    ("true", " || true"),
                    ("1", " + 1"),
                    ("context", '["a"]'),
                    ("[1]", ".contains(1)"),
                    ("context.minute_of_day == 1", " || context.minute_of_day == 1"),
                ]
            )
        )
        body = start + link * depth
    elif shape == "strings":
        body = '"' + draw(st.sampled_from(["(", '\\"(', "\\\\", "\\u{0}"])) * depth + '"'
    elif shape == "comments":
        body = "// " + "(" * depth + "\n" + "(" * min(depth, 100) + "true"
    else:
        body = draw(
            st.text(
                alphabet=st.sampled_from(list('()[]{}!-"\\/;,@:.=<>&| \n\x00ifthenelsetrue1')),
                max_size=3000,
            )
        )
    text = WHEN.format(body) if draw(st.booleans()) else body
    if draw(st.integers(min_value=0, max_value=4)) == 0:  # now and then cut anywhere
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    return text


@FAST
@given(text=policy_texts())
@example(text=WHEN.format("(" * 700 + "true" + ")" * 700))
# Within every scan limit, and still past what an 8 MiB stack survives (16,400 links).
@example(text=WHEN.format("context" + ".a" * 32_000))
def test_policy_text_never_ends_the_process(live: Live, text: str) -> None:
    published = _call(live, "POST", "/api/v1/policies", json={"text": text}, headers=live.headers)
    assert published.status_code in (201, 422), published.text[:500]
    if published.status_code == 201:  # back to no policy, so that later examples are not denied
        _call(live, "POST", "/api/v1/policies", json={"text": ""}, headers=live.headers)
    tried = _call(
        live,
        "POST",
        "/api/v1/policies/dry-run",
        json={
            "action": "servers:read",
            "resource": {"type": "Resource", "id": "x", "attrs": {"kind": "servers"}},
            "policy_text": text,
        },
        headers=live.headers,
    )
    assert tried.status_code in (200, 422), tried.text[:500]


# --- JSON bodies ---------------------------------------------------------------------------


@st.composite
def deep_json(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=20_000))
    units = draw(
        st.lists(st.sampled_from([b"[", b'{"a":', b'{"\\u0000":', b"[1,"]), min_size=1, max_size=3)
    )
    opening = [units[i % len(units)] for i in range(depth)]
    leaf = draw(st.sampled_from([b"1", b'"x"', b'"\\u0000"', b"null", b"{}", b"[]", b'"\\ud800"']))
    closing = b"".join(b"]" if unit.startswith(b"[") else b"}" for unit in reversed(opening))
    return b"".join(opening) + leaf + closing


# (path, a body with ``%s`` where the nested value goes)
DRY_RUN = b'{"action": "servers:read", "resource": {"id": "x", "attrs": %s}}'
JSON_TARGETS = [
    ("/api/v1/servers", b'{"name": "n", "url": "https://example.com/mcp", "tags": %s}'),
    ("/api/v1/servers", b"%s"),
    ("/api/v1/roles", b'{"name": "r", "permissions": %s}'),
    ("/api/v1/policies/dry-run", DRY_RUN),
    ("/api/v1/policies/dry-run", DRY_RUN.replace(b"%s", b'{"kind": %s}')),
    ("/api/v1/api-keys", b'{"name": "k", "scopes": %s}'),
    ("/api/v1/users", b'{"email": "a@example.com", "roles": %s}'),
]


@FAST
@given(target=st.sampled_from(JSON_TARGETS), nested=deep_json())
def test_deeply_nested_json_bodies_never_end_the_process(
    live: Live, target: tuple[str, bytes], nested: bytes
) -> None:
    path, template = target
    response = _call(
        live,
        "POST",
        path,
        content=template.replace(b"%s", nested),
        headers={**live.headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201, 400, 403, 409, 413, 422), response.text[:500]


@FAST
@given(
    target=st.sampled_from(JSON_TARGETS[:1] + JSON_TARGETS[2:]),
    text=st.text(alphabet=st.sampled_from(["\x00", "a", "(", "\\", '"', "\ud7ff"]), max_size=50),
)
def test_nul_bytes_in_strings_never_end_the_process(
    live: Live, target: tuple[str, bytes], text: str
) -> None:
    path, template = target
    value = json.dumps("x" + text + "\x00").encode()
    response = _call(
        live,
        "POST",
        path,
        content=template.replace(b"%s", b"[" + value + b"]"),
        headers={**live.headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201, 400, 403, 409, 413, 422), response.text[:500]


# --- cursors -------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@st.composite
def cursors(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=1, max_value=1000))
    raw = draw(
        st.sampled_from(
            [
                b"[" * depth,
                b"[" * depth + b"]" * depth,
                b'{"o":' * depth + b"1" + b"}" * depth,
                b'["' + b"\\u0000" * min(depth, 60) + b'", "x"]',
                b'{"o": 1' + b"0" * min(depth, 350) + b', "d": "x"}',
                b'["9999-12-31T23:59:59-23:59", "00000000-0000-4000-8000-000000000000"]',
                b"[" + b"1" * min(depth, 370) + b', "x"]',
                b'{"o": -1, "d": ""}',
                b'{"o": Infinity, "d": "x"}',
                b'{"o": 1e999, "d": "x"}',
                b'{"o": NaN, "d": "x"}',
                bytes(range(256))[: depth % 256],
            ]
        )
    )
    if draw(st.booleans()):
        return _b64(raw)
    return draw(st.text(max_size=600))


CURSOR_PATHS = [
    "/api/v1/servers",
    "/api/v1/api-keys",
    "/api/v1/discovery/servers?capability=add",
]


@FAST
@given(path=st.sampled_from(CURSOR_PATHS), cursor=cursors())
@example(path=CURSOR_PATHS[2], cursor=_b64(b'{"o": Infinity, "d": "x"}'))
@example(path=CURSOR_PATHS[0], cursor=_b64(b"[" * 700))
def test_crafted_cursors_never_end_the_process(live: Live, path: str, cursor: str) -> None:
    response = _call(
        live,
        "GET",
        path,
        params=[*httpx.URL(path).params.multi_items(), ("cursor", cursor)],
        headers=live.headers,
    )
    assert response.status_code in (200, 400, 414, 422), response.text[:500]


# --- tool schemas from a malicious MCP server ----------------------------------------------


@st.composite
def deep_schemas(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=5000))
    opening, closing = draw(
        st.sampled_from(
            [
                (b'{"type": "object", "properties": {"a": ', b"}}"),
                (b'{"type": "array", "items": ', b"}"),
                (b'{"allOf": [', b"]}"),
                (b'{"not": ', b"}"),
                (b'{"$ref": "#", "anyOf": [', b"]}"),
            ]
        )
    )
    return _nested(opening, closing, depth)


def _nested(opening: bytes, closing: bytes, depth: int) -> bytes:
    return opening * depth + b'{"type": "string"}' + closing * depth


@SLOW
@given(schema=deep_schemas())
@example(schema=_nested(b'{"type": "object", "properties": {"a": ', b"}}", 60))
@example(schema=_nested(b'{"type": "array", "items": ', b"}", 300))
def test_deep_tool_schemas_never_end_the_process(live: Live, schema: bytes) -> None:
    live.schemas.schema = schema
    started = _call(
        live, "POST", f"/api/v1/servers/{live.server_id}/discoveries", headers=live.headers
    )
    assert started.status_code in (200, 201, 202), started.text[:500]
    # Up to ~100 levels the SDK accepts the listing and the schema is stored and served;
    # deeper ones fail the discovery at the SDK's parser. Either way: no 5xx, no crash.
    assert _settle(live, started.json()["id"])["status"] in ("succeeded", "failed")
    _call(live, "GET", f"/api/v1/servers/{live.server_id}/capabilities", headers=live.headers)
    _call(live, "GET", f"/api/v1/servers/{live.server_id}/snapshots", headers=live.headers)
    _call(
        live,
        "GET",
        "/api/v1/discovery/servers",
        params={"capability": "add", "fuzzy": "true"},
        headers=live.headers,
    )
