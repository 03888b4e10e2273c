"""The check of a tool's schema against its meta-schema: a compiled checker first, the same
answers as ``jsonschema`` alone, and no fetch of a ``$schema`` that a server chose."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

from sprintconnect.discovery import collect

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
SCHEMAS: list[Any] = [
    {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}},
    {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}},
    {"$schema": DRAFT_07, "type": "object", "required": ["a"]},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {"x": {}}},
    {"type": 5},
    {"properties": []},
    {"type": "object", "properties": {"a": {"type": "strin"}}},
    {"minimum": "a"},
    {"$schema": DRAFT_07, "type": "wat"},
    {"required": "a"},
]


def _python_only(schema: Any) -> str | None:
    return collect._problem_of(json.dumps(schema, sort_keys=True))


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_fast_path_answers_as_jsonschema_alone(schema: Any) -> None:
    assert collect._schema_problem(schema) == _python_only(schema)


def test_invalid_schemas_still_say_why() -> None:
    assert collect._schema_problem({"type": 5}) == "5 is not valid under any of the given schemas"
    assert collect._schema_problem([]) == "not an object"
    assert collect._schema_problem({"$schema": 7}) == "$schema is not a string"


@pytest.mark.parametrize(
    "draft",
    [
        "http://127.0.0.1:9/meta",
        "https://metadata.example/latest",
        "file:///etc/passwd",
        "http://json-schema.org/draft-07/schema/../../x",
    ],
)
def test_a_meta_schema_of_the_servers_choosing_never_reaches_the_compiled_checker(
    draft: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Asked about a meta-schema it does not carry, the compiled checker would fetch its URL.
    calls: list[Any] = []

    def recording(schema: Any, registry: Any = None) -> bool:
        calls.append(schema)
        return True

    monkeypatch.setattr(jsonschema_rs.meta, "is_valid", recording)
    schema = {"$schema": draft, "type": "object"}
    assert collect._schema_problem(schema) == _python_only(schema)
    assert calls == []


def test_known_drafts_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = jsonschema_rs.meta.is_valid

    def recording(schema: Any, registry: Any = None) -> bool:
        calls.append(schema)
        return bool(real(schema))

    monkeypatch.setattr(jsonschema_rs.meta, "is_valid", recording)
    for schema in ({"type": "object"}, {"$schema": DRAFT_07, "type": "object"}):
        assert collect._schema_problem(schema) is None
    assert len(calls) == 2
