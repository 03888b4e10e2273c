"""Input rules that hold for every request, whatever the route: checked once, before routing.

- Text that PostgreSQL cannot store (a NUL character, a lone UTF-16 surrogate) is refused
  with ``422 validation-failed`` naming where it sits: the path, a query parameter, a header,
  or a field of a JSON body.
- JSON bodies nest at most ``MAX_JSON_DEPTH`` arrays and objects (``422 json-too-deep``),
  checked on the raw bytes before anything parses them recursively.
- Headers total at most ``MAX_HEADER_BYTES`` (``431 headers-too-large``) and the request target
  at most ``MAX_URL_BYTES`` (``414 uri-too-long``); the HTTP server's own hard limit sits
  above these, so what we can still read we answer as problem+json.
- Datetimes in request bodies are ``UtcDatetime``: a time zone is required, and the instant,
  normalized to UTC, lies within ``DATETIME_MIN`` .. ``DATETIME_MAX``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import accumulate
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import AfterValidator, AwareDatetime

from sprintconnect.errors import FieldError, SprintConnectError, ValidationFailed

MAX_JSON_DEPTH = 64
MAX_HEADER_BYTES = 32 * 1024
MAX_URL_BYTES = 8 * 1024

DATETIME_MIN = datetime(1970, 1, 1, tzinfo=UTC)
# A year short of Python's last representable one, so that adding a lifetime or a time zone
# offset to an accepted value can never overflow.
DATETIME_MAX = datetime(9999, 1, 1, tzinfo=UTC)

NUL_MESSAGE = "must not contain NUL characters"
SURROGATE_MESSAGE = "must be valid Unicode (no lone surrogates)"


class JsonTooDeep(ValidationFailed):
    slug = "json-too-deep"
    title = "The JSON body is nested too deeply"

    def __init__(self) -> None:
        super().__init__(
            f"JSON bodies may nest arrays and objects at most {MAX_JSON_DEPTH} levels deep.",
            max_depth=MAX_JSON_DEPTH,
        )


class HeadersTooLarge(SprintConnectError):
    status = 431
    slug = "headers-too-large"
    title = "The request headers are too large"

    def __init__(self) -> None:
        super().__init__(
            f"The request's headers may total at most {MAX_HEADER_BYTES} bytes.",
            max_header_bytes=MAX_HEADER_BYTES,
        )


class UriTooLong(SprintConnectError):
    status = 414
    slug = "uri-too-long"
    title = "The request URI is too long"

    def __init__(self) -> None:
        super().__init__(
            f"The path and query string may total at most {MAX_URL_BYTES} bytes.",
            max_url_bytes=MAX_URL_BYTES,
        )


# --- text ----------------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """Why PostgreSQL could not store ``value`` as text, or None when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def _shown(key: str) -> str:
    """A key fit to quote in an error: NUL and surrogates escaped, never echoed raw."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _walk(value: Any, loc: list[str | int]) -> Iterator[FieldError]:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            yield FieldError(loc=loc, msg=problem, type="string_unstorable")
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem is not None:
                key = _shown(key)
                yield FieldError(loc=[*loc, key], msg=problem, type="key_unstorable")
            yield from _walk(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, [*loc, index])


def unstorable_text(value: Any, loc: list[str | int]) -> list[FieldError]:
    """Every string (or object key) in a parsed JSON value that PostgreSQL cannot store."""
    return list(_walk(value, loc))


def body_text_errors(body: bytes) -> list[FieldError]:
    """NUL or lone surrogates in a JSON body; a body that is not JSON is left to the route."""
    # In valid JSON both can only arrive escaped (``\\u0000``, ``\\ud800``): skip the parse
    # for the bodies that hold no escape at all.
    if b"\\u" not in body:
        return []
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return []
    return unstorable_text(parsed, ["body"])


def url_errors(path: str, query_string: bytes) -> list[FieldError]:
    errors: list[FieldError] = []
    if (problem := text_problem(path)) is not None:
        errors.append(FieldError(loc=["path"], msg=problem, type="string_unstorable"))
    if b"%00" in query_string or b"\x00" in query_string:
        seen: set[str] = set()
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            for text, shown in ((name, _shown(name)), (value, _shown(name))):
                if "\x00" in text and shown not in seen:
                    seen.add(shown)
                    errors.append(
                        FieldError(loc=["query", shown], msg=NUL_MESSAGE, type="string_unstorable")
                    )
    return errors


def header_errors(headers: list[tuple[bytes, bytes]]) -> list[FieldError]:
    return [
        FieldError(
            loc=["header", name.decode("latin-1").lower()],
            msg=NUL_MESSAGE,
            type="string_unstorable",
        )
        for name, value in headers
        if b"\x00" in value
    ]


# --- JSON nesting --------------------------------------------------------------------------

# A JSON string, or an unterminated one running to the end: always matches once started, so
# the scan stays linear however many quotes and backslashes a body holds.
_STRING = re.compile(rb'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers to +1 and closers to -1 as signed bytes, so C code can sum them.
_SIGNED = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_CHUNK = 65_536


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``body`` nest deeper than ``limit``, strings ignored."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    steps = _STRING.sub(b"", body).translate(_SIGNED, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(steps), _CHUNK):
        chunk = steps[start : start + _CHUNK]
        opened = chunk.count(1)
        if depth + opened <= limit:  # cannot cross the limit inside this chunk
            depth += opened - (len(chunk) - opened)
            continue
        running = list(accumulate(memoryview(chunk).cast("b"), initial=depth))
        if max(running) > limit:
            return True
        depth = running[-1]
    return False


# --- datetimes -----------------------------------------------------------------------------


def _bounded_utc(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not DATETIME_MIN <= utc < DATETIME_MAX:
        raise ValueError(
            f"must lie from {DATETIME_MIN.isoformat()} up to (not including) "
            f"{DATETIME_MAX.isoformat()} once converted to UTC"
        )
    return utc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_bounded_utc)]
"""A datetime input: time zone required, returned in UTC, within the storable range."""
