"""Keeping a listing when some of its items break the protocol: each item is checked alone.

The mcp SDK validates a listing page as a whole against the negotiated protocol version, so
one tool whose schema it rejects fails the page, and with it the discovery. A
``ListingGuard`` sits between the transport and the SDK's session (``open_session``'s
``wrap_streams``): it notes which requests were listings, checks every item of their
answers on its own against the same models the SDK uses, passes the valid items on, and
keeps the others with the reason. An answer whose envelope is wrong (not the items) is
passed on untouched, so the SDK still reports it as the protocol error it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import mcp_types
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse
from mcp_types import methods as protocol
from pydantic import BaseModel, ValidationError

from sprintconnect.discovery.snapshot import KEY_FIELD

MAX_REASON = 500
MAX_NAME = 200


@dataclass(frozen=True)
class _Listing:
    kind: str
    key: str
    page_model: type[BaseModel]
    item_model: type[BaseModel]


LISTINGS: dict[str, _Listing] = {
    "tools/list": _Listing("tool", "tools", mcp_types.ListToolsResult, mcp_types.Tool),
    "resources/list": _Listing(
        "resource", "resources", mcp_types.ListResourcesResult, mcp_types.Resource
    ),
    "resources/templates/list": _Listing(
        "resource_template",
        "resourceTemplates",
        mcp_types.ListResourceTemplatesResult,
        mcp_types.ResourceTemplate,
    ),
    "prompts/list": _Listing("prompt", "prompts", mcp_types.ListPromptsResult, mcp_types.Prompt),
}


@dataclass
class ListingGuard:
    """Screens listing answers item by item; ``rejected`` holds what it kept out."""

    version: str | None = None  # the negotiated protocol version; screening starts once set
    rejected: list[dict[str, str]] = field(default_factory=list)
    _pending: dict[Any, str] = field(default_factory=dict)

    def wrap(self, read: Any, write: Any) -> tuple[Any, Any]:
        """The transport's streams, as the SDK's session should see them."""
        return _Read(read, self), _Write(write, self)

    def sent(self, item: Any) -> None:
        message = getattr(item, "message", None)
        if isinstance(message, JSONRPCRequest) and message.method in LISTINGS:
            self._pending[message.id] = message.method

    def received(self, item: Any) -> None:
        if not isinstance(item, SessionMessage):
            return
        message = item.message
        if isinstance(message, JSONRPCError):
            self._pending.pop(message.id, None)
        elif isinstance(message, JSONRPCResponse):
            method = self._pending.pop(message.id, None)
            if method is not None:
                message.result = self._screen(method, message.result)

    def _screen(self, method: str, result: dict[str, Any]) -> dict[str, Any]:
        listing = LISTINGS[method]
        items = result.get(listing.key)
        version = self.version
        if version is None or not isinstance(items, list) or not items:
            return result
        if _problem(method, version, listing, result, result) is None:
            return result  # the usual case: one check of the whole page
        if _problem(method, version, listing, {**result, listing.key: []}, None) is not None:
            return result  # the envelope is wrong, not an item: the SDK reports it
        kept: list[Any] = []
        for index, item in enumerate(items):
            problem = _problem(method, version, listing, {**result, listing.key: [item]}, item)
            if problem is None:
                kept.append(item)
            else:
                self.rejected.append(
                    {
                        "kind": listing.kind,
                        "name": _name(listing.kind, item, index),
                        "reason": problem,
                    }
                )
        return result if len(kept) == len(items) else {**result, listing.key: kept}


def _problem(
    method: str, version: str, listing: _Listing, page: dict[str, Any], item: Any
) -> str | None:
    """Why the SDK would refuse ``page`` (or ``item`` in it, or the page itself when ``item``
    is the page), in a line; None if it would not."""
    try:
        protocol.validate_server_result(method, version, page)
        if item is page:
            listing.page_model.model_validate(page, by_name=False)
        elif item is not None:
            listing.item_model.model_validate(item, by_name=False)
    except ValidationError as exc:
        return _reason(exc, listing.key)
    except (KeyError, ValueError):  # a method or version the SDK itself does not check
        return None
    return None


def _reason(exc: ValidationError, key: str) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = [str(p) for p in error["loc"]]
        if len(loc) >= 2 and loc[0] == key:  # the page's own path: tools.0.inputSchema...
            loc = loc[2:]
        parts.append(f"{'.'.join(loc) or 'item'}: {error['msg']}")
    more = len(exc.errors()) - len(parts)
    text = "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    return text[:MAX_REASON]


def _name(kind: str, item: Any, index: int) -> str:
    if isinstance(item, dict):
        for name_field in (KEY_FIELD[kind], "name"):
            value = item.get(name_field)
            if isinstance(value, str) and value:
                return value[:MAX_NAME]
    return f"#{index}"


class _Proxy:
    """A stream of the transport's, passed through; subclasses note what goes by."""

    def __init__(self, inner: Any, guard: ListingGuard) -> None:
        self._inner = inner
        self._guard = guard

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        result: bool | None = await self._inner.__aexit__(exc_type, exc_val, exc_tb)
        return result

    def __getattr__(self, name: str) -> Any:  # e.g. ``last_context``
        return getattr(self._inner, name)


class _Read(_Proxy):
    """The transport's read stream; listing answers are screened on their way to the SDK."""

    async def receive(self) -> Any:
        item = await self._inner.receive()
        self._guard.received(item)
        return item

    def __aiter__(self) -> _Read:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        self._guard.received(item)
        return item


class _Write(_Proxy):
    """The transport's write stream; listing requests are noted on their way out."""

    async def send(self, item: Any, /) -> None:
        self._guard.sent(item)
        await self._inner.send(item)
