"""Structured logs: readable lines on a terminal, JSON lines otherwise; request id bound."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import psycopg
import structlog
from sqlalchemy.exc import StatementError

REDACTED_KEYS = frozenset({"authorization", "password", "secret", "token", "key", "api_key"})


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: never print a value under a key that names a secret."""
    for name in list(event):
        if name.lower() in REDACTED_KEYS:
            event[name] = "[redacted]"
    return event


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        value = exc_info[1]
        return value if isinstance(value, BaseException) else None
    return sys.exc_info()[1] if exc_info else None


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, innermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        cause = current.__cause__
        current = (
            cause if cause is not None or current.__suppress_context__ else current.__context__
        )
    return chain[::-1]


def _is_db_error(exc: BaseException) -> bool:
    return isinstance(exc, StatementError | psycopg.Error)


def _db_message(exc: BaseException) -> str:
    """What a database error says without the values: PostgreSQL quotes them in its message
    and DETAIL (``Key (email)=(...)``, ``Failing row contains (...)``), so neither is kept."""
    parts: list[str] = []
    orig = exc.orig if isinstance(exc, StatementError) else exc
    if isinstance(orig, psycopg.Error):
        parts.append(f"({type(orig).__module__}.{type(orig).__qualname__})")
        if orig.sqlstate:
            parts.append(f"SQLSTATE {orig.sqlstate}")
        diag = orig.diag
        for label, value in (
            ("table", diag.table_name),
            ("column", diag.column_name),
            ("constraint", diag.constraint_name),
        ):
            if value:
                parts.append(f"{label}={value}")
    elif orig is not None:
        parts.append(f"({type(orig).__module__}.{type(orig).__qualname__})")
    if isinstance(exc, StatementError) and exc.statement:
        parts.append(f"[SQL: {exc.statement}]")
    return " ".join(parts) + " [message and parameters withheld from logs]"


def _render_chain(exc: BaseException) -> str:
    lines: list[str] = []
    for position, current in enumerate(_chain(exc)):
        if position:
            lines.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if current.__cause__ is not None
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(current.__traceback__))
        name = f"{type(current).__module__}.{type(current).__qualname__}"
        message = _db_message(current) if _is_db_error(current) else str(current)
        lines.append(f"{name}: {message}\n")
    return "".join(lines)


def _format_exc_info(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """``format_exc_info``, except that database errors are rendered without their values."""
    exc = _exception_of(event.get("exc_info"))
    if exc is None or not any(_is_db_error(e) for e in _chain(exc)):
        return structlog.processors.format_exc_info(logger, method, event)
    event.pop("exc_info", None)
    event["exception"] = _render_chain(exc)
    return event


def resolve_format(fmt: str) -> str:
    """``auto`` is ``console`` when standard error is a terminal (a person reads it) and
    ``json`` otherwise (a log collector reads it)."""
    if fmt != "auto":
        return fmt
    return "console" if sys.stderr.isatty() else "json"


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if resolve_format(fmt) == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our middleware logs each request; uvicorn's access log would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
    # pgserver narrates every pg_ctl call at INFO; only its warnings matter to an operator.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
