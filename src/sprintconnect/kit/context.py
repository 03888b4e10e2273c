"""Facts about the current request that deep code (audit) may read without plumbing."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None


_EMPTY = RequestMeta()
_current: ContextVar[RequestMeta] = ContextVar("sprintconnect_request_meta", default=_EMPTY)


def current_request() -> RequestMeta:
    return _current.get()


def set_current_request(meta: RequestMeta) -> None:
    _current.set(meta)
