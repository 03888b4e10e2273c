"""App-wide input rules: no NUL or broken Unicode, bounded datetimes, bounded JSON nesting."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.kit.input import (
    DATETIME_MAX,
    DATETIME_MIN,
    MAX_HEADER_BYTES,
    MAX_JSON_DEPTH,
    json_depth_exceeds,
)
from sprintconnect.policy.schemas import EXAMPLE_POLICY
from tests.conftest import Tenant, assert_problem

PERMIT_ALL = EXAMPLE_POLICY


def _cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def _locs(body: dict[str, Any]) -> list[list[str | int]]:
    return [e["loc"] for e in body.get("errors") or []]


# Each case: method, path, JSON body (as text, so the escape reaches us as the client sent it),
# and the ``loc`` the answer must name.
NUL_IN_BODIES = [
    pytest.param(
        "POST",
        "/api/v1/roles",
        '{"name": "nul-role", "description": "a\\u0000b"}',
        ["body", "description"],
        id="role-description",
    ),
    pytest.param(
        "PATCH",
        "/api/v1/organization",
        '{"name": "Org\\u0000"}',
        ["body", "name"],
        id="organization-name",
    ),
    pytest.param(
        "POST",
        "/api/v1/policies",
        json.dumps({"text": PERMIT_ALL, "comment": "x\x00y"}),
        ["body", "comment"],
        id="policy-comment",
    ),
    pytest.param(
        "POST",
        "/api/v1/policies",
        json.dumps({"text": PERMIT_ALL + "\x00"}),
        ["body", "text"],
        id="policy-text",
    ),
    pytest.param(
        "POST",
        "/api/v1/servers",
        json.dumps(
            {
                "name": "nul-oauth",
                "url": "https://mcp.example.com/mcp",
                "auto_discover": False,
                "auth": {
                    "type": "oauth2_client_credentials",
                    "token_url": "https://auth.example.com/token",
                    "client_id": "id\x00",
                    "client_secret": "s",
                },
            }
        ),
        ["body", "auth", "client_id"],
        id="oauth-client-id",
    ),
    pytest.param(
        "POST",
        "/api/v1/policies/dry-run",
        json.dumps({"action": "servers:read", "resource": {"id": "x", "attrs": {"k\x00": 1}}}),
        ["body", "resource", "attrs", "k\\u0000"],
        id="object-key",
    ),
    pytest.param(
        "POST",
        "/api/v1/roles",
        '{"name": "nul-list", "extends": ["viewer", "\\u0000"]}',
        ["body", "extends", 1],
        id="list-item",
    ),
]


@pytest.mark.parametrize(("method", "path", "text", "loc"), NUL_IN_BODIES)
async def test_nul_in_a_json_string_is_422_naming_the_field(
    client: httpx.AsyncClient,
    tenant: Tenant,
    method: str,
    path: str,
    text: str,
    loc: list[str | int],
) -> None:
    response = await client.request(
        method,
        path,
        content=text.encode(),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation-failed")
    assert loc in _locs(body), body
    assert "\x00" not in response.text


async def test_lone_surrogate_in_a_json_string_is_422(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.patch(
        "/api/v1/organization",
        content=b'{"name": "Org \\ud800"}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation-failed")
    assert ["body", "name"] in _locs(body)


async def test_escaped_backslash_before_u0000_is_not_a_nul(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.patch(
        "/api/v1/organization",
        content=b'{"name": "Org \\\\u0000 literal"}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Org \\u0000 literal"


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        pytest.param("/api/v1/servers?q=a%00b", ["query", "q"], id="servers-q"),
        pytest.param("/api/v1/servers?tag=a&tag=%00", ["query", "tag"], id="repeated-param"),
        pytest.param("/api/v1/servers?x%00=1", ["query", "x\\u0000"], id="param-name"),
        pytest.param("/api/v1/roles/ab%00c", ["path"], id="role-name-path"),
        pytest.param("/api/v1/users/%00", ["path"], id="user-path"),
    ],
)
async def test_nul_in_the_url_is_422(
    client: httpx.AsyncClient, tenant: Tenant, path: str, loc: list[str]
) -> None:
    body = assert_problem(await client.get(path, headers=tenant.headers), 422, "validation-failed")
    assert loc in _locs(body), body


@pytest.mark.parametrize(
    ("path", "sort"),
    [
        ("/api/v1/api-keys", None),
        ("/api/v1/users", None),
        ("/api/v1/servers", "name"),
        ("/api/v1/servers", "-name"),
    ],
)
async def test_crafted_cursor_carrying_a_nul_is_422(
    client: httpx.AsyncClient, tenant: Tenant, path: str, sort: str | None
) -> None:
    crafted = [
        _cursor("2026-01-01T00:00:00+00:00", "\x00"),
        _cursor("a\x00", str(uuid.uuid4())),
        _cursor(["nested"], str(uuid.uuid4())),
        _cursor("a\x00", "2026-01-01T00:00:00+00:00", str(uuid.uuid4())),
    ]
    for cursor in crafted:
        params = {"cursor": cursor, **({"sort": sort} if sort else {})}
        response = await client.get(path, params=params, headers=tenant.headers)
        assert response.status_code == 422, (cursor, response.text)
        assert_problem(response, 422)


async def test_nul_in_a_header_is_422(app: FastAPI, tenant: Tenant) -> None:
    # httpx refuses to send such a header, so this speaks ASGI directly.
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/me",
        "raw_path": b"/api/v1/me",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", tenant.headers["Authorization"].encode()),
            (b"user-agent", b"agent\x00smith"),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "app": app,
    }
    await app(scope, receive, send)
    start = sent[0]
    assert start["status"] == 422
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["type"] == "/problems/validation-failed"
    assert ["header", "user-agent"] in _locs(body)


# --- datetimes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+23:59",  # before year 1 in UTC
        "1969-12-31T23:59:59Z",
        "2027-01-01T00:00:00",  # naive
    ],
)
async def test_api_key_expiry_out_of_range_or_naive_is_422(
    client: httpx.AsyncClient, tenant: Tenant, value: str
) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "dt", "scopes": ["servers:read"], "expires_at": value},
        headers=tenant.headers,
    )
    body = assert_problem(response, 422, "validation-failed")
    assert ["body", "expires_at"] in _locs(body), body


async def test_api_key_expiry_with_an_offset_is_normalized_to_utc(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "dt", "scopes": ["servers:read"], "expires_at": "2030-06-01T23:30:00-02:00"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["api_key"]["expires_at"].startswith("2030-06-02T01:30:00")


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "0001-01-01T00:00:00Z",
        "2026-01-01T12:00:00",
    ],
)
async def test_dry_run_at_out_of_range_or_naive_is_422(
    client: httpx.AsyncClient, tenant: Tenant, value: str
) -> None:
    response = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": {"id": "x"}, "at": value},
        headers=tenant.headers,
    )
    body = assert_problem(response, 422, "validation-failed")
    assert ["body", "at"] in _locs(body), body


async def test_the_datetime_bounds_are_inclusive_below_and_exclusive_above(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    last = (DATETIME_MAX - timedelta(seconds=1)).isoformat()
    for value, status in ((DATETIME_MAX.isoformat(), 422), (last, 201)):
        response = await client.post(
            "/api/v1/api-keys",
            json={"name": "edge", "scopes": ["servers:read"], "expires_at": value},
            headers=tenant.headers,
        )
        assert response.status_code == status, (value, response.text)
    keys = await client.get("/api/v1/api-keys", headers=tenant.headers)
    assert keys.status_code == 200  # the stored value reads back
    assert any(k["expires_at"].startswith("9998-12-31T23:59:59") for k in keys.json()["items"])
    at_min = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": {"id": "x"}, "at": DATETIME_MIN.isoformat()},
        headers=tenant.headers,
    )
    assert at_min.status_code == 200, at_min.text


# --- JSON nesting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100k-arrays"),
        pytest.param(b"[" * 900_000, id="900k-unclosed"),
        pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="100k-objects"),
        pytest.param(
            b'{"name": "x", "scopes": ' + b"[" * 5000 + b"]" * 5000 + b"}", id="inside-a-field"
        ),
    ],
)
async def test_deep_nesting_is_422_naming_the_limit(
    client: httpx.AsyncClient, tenant: Tenant, content: bytes
) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        content=content,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "json-too-deep")
    assert body["max_depth"] == MAX_JSON_DEPTH
    assert str(MAX_JSON_DEPTH) in body["detail"]


async def test_deep_nesting_without_content_type_is_422(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/api/v1/api-keys", content=b"[" * 10_000 + b"]" * 10_000, headers=tenant.headers
    )
    assert_problem(response, 422, "json-too-deep")


async def test_nesting_at_the_limit_reaches_the_route(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # The body object is level 1, attrs level 2; the rest brings it to the limit exactly.
    inner: Any = 1
    for _ in range(MAX_JSON_DEPTH - 3):
        inner = [inner]
    body = {"action": "servers:read", "resource": {"id": "x", "attrs": {"deep": inner}}}
    response = await client.post("/api/v1/policies/dry-run", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    one_more = {"action": "servers:read", "resource": {"id": "x", "attrs": {"deep": [inner]}}}
    response = await client.post("/api/v1/policies/dry-run", json=one_more, headers=tenant.headers)
    assert_problem(response, 422, "json-too-deep")


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        (b"[]", False),
        (b'"[[[[[[[[[["', False),
        (b'["\\"[[[[[[[[[["]', False),
        (b'["\\\\", ' + b"[" * 10 + b"]" * 11, True),
        (b"{" * 11, True),
        (b'"' + b"\\" * 10 + b"[" * 20, False),  # an unclosed string swallows the rest
        (b'"\\"\\"\\"' * 1000 + b"[" * 20, False),
    ],
)
def test_depth_scan_ignores_brackets_inside_strings(text: bytes, deeper: bool) -> None:
    assert json_depth_exceeds(text, 10) is deeper


def test_header_limit_is_below_the_servers_hard_limit() -> None:
    from sprintconnect.ops.http_protocol import MAX_INCOMPLETE_HEAD_BYTES

    assert MAX_INCOMPLETE_HEAD_BYTES > MAX_HEADER_BYTES


async def test_headers_over_our_limit_are_431(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        "/api/v1/me", headers={**tenant.headers, "X-Filler": "a" * MAX_HEADER_BYTES}
    )
    body = assert_problem(response, 431, "headers-too-large")
    assert body["max_header_bytes"] == MAX_HEADER_BYTES
