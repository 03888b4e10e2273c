"""Arguments are checked against a tool's input schema without ever fetching a ``$ref``."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid

import pytest

from sprintconnect.gateway.calls import validate_arguments
from sprintconnect.gateway.errors import ToolArgumentsInvalid
from sprintconnect.models import CapabilityItem


def item(schema: object) -> CapabilityItem:
    return CapabilityItem(id=uuid.uuid4(), name="tool", kind="tool", body={"inputSchema": schema})


def test_a_remote_ref_is_never_fetched() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            accepted.append(listener.accept())

    watcher = threading.Thread(target=accept)
    watcher.start()
    schema = {"type": "object", "properties": {"a": {"$ref": f"http://127.0.0.1:{port}/s.json"}}}
    validate_arguments(item(schema), {"a": 1})  # unresolvable: left to the server to judge
    watcher.join()
    listener.close()
    assert accepted == []


def test_local_refs_nested_objects_and_arrays_name_the_field() -> None:
    schema = {
        "type": "object",
        "$defs": {
            "point": {"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}}}
        },
        "properties": {
            "points": {"type": "array", "items": {"$ref": "#/$defs/point"}},
            "mode": {"enum": ["fast", "slow"]},
        },
        "required": ["points"],
    }
    validate_arguments(item(schema), {"points": [{"x": 1}], "mode": "fast"})
    with pytest.raises(ToolArgumentsInvalid) as raised:
        validate_arguments(item(schema), {"points": [{"x": "one"}, {}], "mode": "medium"})
    found = {(tuple(e.loc), e.type) for e in raised.value.errors or []}
    assert (("body", "arguments", "points", 0, "x"), "schema.type") in found
    assert (("body", "arguments", "points", 1), "schema.required") in found
    assert (("body", "arguments", "mode"), "schema.enum") in found


def test_a_schema_that_is_not_one_is_left_to_the_server() -> None:
    validate_arguments(item({"type": 12}), {"a": 1})
    validate_arguments(item("not a schema"), {"a": 1})
    validate_arguments(None, {"a": 1})
