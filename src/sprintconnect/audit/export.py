"""Writing an audit export: the NDJSON, JSON and CSV layouts, one entry at a time.

NDJSON (the verifiable layout, ``sprintconnect audit verify-export`` reads it):

1. ``{"type": "header", "format": "sprintconnect-audit-export", "version": 1, "org_id": ...,
   "exported_at": ..., "filters": {...}}``
2. one ``{"type": "entry", ...}`` line per entry, oldest first, with every stored column of
   the entry (``ENTRY_COLUMNS``: what the ledger's canonical leaf encoding reads) and its
   ``leaf_index`` (null until sequenced);
3. ``{"type": "evidence", ...}``: the latest signed checkpoint and the proofs that tie the
   exported leaves to it (the ledger's ``evidence_for_range``), when the ledger has any.

JSON: one object ``{"header": {...}, "entries": [...], "evidence": {...}}`` with the same
parts (without the ``type`` members). CSV: entries only, one row each, no evidence.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sprintconnect.audit.ledger.encoding import LEAF_FIELDS
from sprintconnect.audit.query import outcome_of
from sprintconnect.audit.schemas import ExportFormat

EXPORT_FORMAT = "sprintconnect-audit-export"
EXPORT_VERSION = 1
MEDIA_TYPES: dict[str, str] = {
    "ndjson": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}
# The stored columns of an entry, as entry lines carry them: what the ledger's canonical leaf
# encoding reads (one list, the ledger's).
ENTRY_COLUMNS = LEAF_FIELDS
CSV_COLUMNS = (
    "id",
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_user_id",
    "target_type",
    "target_id",
    "request_id",
    "ip",
    "user_agent",
    "details",
    "leaf_index",
)
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, UUID):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)  # ip addresses


def entry_record(row: Mapping[str, Any], leaf_index: int | None) -> dict[str, Any]:
    """An entry line's members (without ``type``): the stored columns and the leaf index."""
    record = {name: _plain(row.get(name)) for name in ENTRY_COLUMNS}
    record["leaf_index"] = leaf_index
    return record


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = _dumps(value) if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class ExportWriter:
    """Turns a header, entries and evidence into the chunks of one export format."""

    def __init__(self, fmt: ExportFormat) -> None:
        self.fmt = fmt
        self.count = 0

    def header(self, header: dict[str, Any]) -> str:
        if self.fmt == "ndjson":
            return _dumps({"type": "header", **header}) + "\n"
        if self.fmt == "json":
            return '{"header":' + _dumps(header) + ',"entries":['
        buffer = io.StringIO()
        csv.writer(buffer).writerow(CSV_COLUMNS)
        return buffer.getvalue()

    def entry(self, record: dict[str, Any]) -> str:
        self.count += 1
        if self.fmt == "ndjson":
            return _dumps({"type": "entry", **record}) + "\n"
        if self.fmt == "json":
            return ("," if self.count > 1 else "") + _dumps(record)
        shown = {
            **record,
            "action": record["tag"],
            "outcome": outcome_of(record["tag"], record["details"] or {}),
        }
        buffer = io.StringIO()
        csv.writer(buffer).writerow([_cell(shown.get(name)) for name in CSV_COLUMNS])
        return buffer.getvalue()

    def end(self, evidence: dict[str, Any] | None) -> str:
        if self.fmt == "ndjson":
            return _dumps({"type": "evidence", **evidence}) + "\n" if evidence else ""
        if self.fmt == "json":
            return "]" + (',"evidence":' + _dumps(evidence) if evidence else "") + "}"
        return ""


async def batched(chunks: AsyncIterator[str], size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """Join small chunks into writes of about ``size`` bytes."""
    pending: list[str] = []
    held = 0
    async for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        if held >= size:
            yield "".join(pending).encode()
            pending.clear()
            held = 0
    if pending:
        yield "".join(pending).encode()
