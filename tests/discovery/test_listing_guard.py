"""The listing guard: items the SDK would refuse are taken out, one by one, with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse
from mcp_types.jsonrpc import ErrorData

from sprintconnect.discovery.listing import ListingGuard

VERSION = "2025-11-25"
GOOD_TOOL = {"name": "add", "inputSchema": {"type": "object"}}


def exchange(guard: ListingGuard, method: str, result: dict[str, Any], rid: int = 1) -> Any:
    guard.sent(SessionMessage(JSONRPCRequest(jsonrpc="2.0", id=rid, method=method)))
    answer = SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=rid, result=result))
    guard.received(answer)
    assert isinstance(answer.message, JSONRPCResponse)
    return answer.message.result


def test_a_tool_the_sdk_rejects_is_taken_out_with_its_reason() -> None:
    guard = ListingGuard(version=VERSION)
    bad = {"name": "weather", "inputSchema": {"type": "string"}}
    result = exchange(guard, "tools/list", {"tools": [GOOD_TOOL, bad], "nextCursor": "c2"})
    assert result == {"tools": [GOOD_TOOL], "nextCursor": "c2"}
    (rejected,) = guard.rejected
    assert rejected["kind"] == "tool"
    assert rejected["name"] == "weather"
    assert rejected["reason"].startswith("inputSchema.type: Input should be 'object'")


@pytest.mark.parametrize(
    ("method", "key", "item", "name"),
    [
        ("resources/list", "resources", {"name": "no uri"}, "no uri"),
        ("resources/list", "resources", {"uri": "file:///x"}, "file:///x"),
        ("resources/templates/list", "resourceTemplates", {"name": "t"}, "t"),
        ("prompts/list", "prompts", {"description": "nameless"}, "#0"),
        ("tools/list", "tools", "not an object", "#0"),
    ],
)
def test_every_kind_is_screened(method: str, key: str, item: Any, name: str) -> None:
    guard = ListingGuard(version=VERSION)
    assert exchange(guard, method, {key: [item]}) == {key: []}
    assert guard.rejected[0]["name"] == name
    assert guard.rejected[0]["reason"]


def test_a_broken_envelope_and_other_answers_pass_untouched() -> None:
    guard = ListingGuard(version=VERSION)
    broken = {"tools": [GOOD_TOOL, {"name": "x"}], "nextCursor": 7}
    assert exchange(guard, "tools/list", broken) == broken  # the SDK reports it
    assert exchange(guard, "tools/list", {"tools": "nope"}, rid=2) == {"tools": "nope"}
    other = {"tools": [{"name": "x"}]}  # not an answer to a listing
    assert exchange(guard, "tools/call", other, rid=3) == other
    assert guard.rejected == []


def test_nothing_is_screened_before_the_version_is_known_and_errors_forget_the_request() -> None:
    guard = ListingGuard()
    listing = {"tools": [{"name": "x"}]}
    assert exchange(guard, "tools/list", listing) == listing
    guard.version = VERSION
    guard.sent(SessionMessage(JSONRPCRequest(jsonrpc="2.0", id=9, method="tools/list")))
    guard.received(
        SessionMessage(JSONRPCError(jsonrpc="2.0", id=9, error=ErrorData(code=-1, message="no")))
    )
    # A later answer reusing the id is not taken for the listing's.
    late = SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=9, result=dict(listing)))
    guard.received(late)
    assert isinstance(late.message, JSONRPCResponse)
    assert late.message.result == listing
    assert guard.rejected == []
