"""Verifying an audit export offline: ``sprintconnect audit verify-export FILE``.

Reads an NDJSON export (or the JSON layout) and checks, without any server:

1. each entry line's leaf hash, recomputed from its columns (``encoding``, the same function
   the server sequences with);
2. that the entries cover the evidence's leaf range exactly once each;
3. the root of the tree of ``last + 1`` leaves, from the evidence's ``left_frontier`` and the
   recomputed leaves, and the consistency proof from it to the checkpoint's tree;
4. the checkpoint's signed note: its fields, and its Ed25519 signature with the public key
   from a keys file (the JWKS of ``/.well-known/sprintconnect-audit-keys``, fetched by the
   auditor) or, failing that, the key the evidence carries (reported as such).

Entries outside the covered range (newer than the checkpoint, or not sequenced) are counted,
not verified. A filtered export is not a contiguous range of leaves and cannot be verified
this way; export unfiltered ranges for audit.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprintconnect.audit.ledger import encoding, signing
from sprintconnect.kit import merkle


class ExportUnreadable(ValueError):
    """The file is not an audit export this verifier can read."""


@dataclass
class ExportCheck:
    entries: int = 0
    verified: int = 0
    not_covered: int = 0
    range: tuple[int, int] | None = None
    checkpoint_size: int | None = None
    key_id: str | None = None
    key_source: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.range is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "verified": self.verified,
            "not_covered": self.not_covered,
            "range": list(self.range) if self.range else None,
            "checkpoint_tree_size": self.checkpoint_size,
            "key_id": self.key_id,
            "key_source": self.key_source,
            "problems": self.problems,
        }


def _parts(path: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]], list[dict[str, Any]]]:
    """The header, the entries (streamed for NDJSON) and the evidence (a one-item list once
    the entries are read)."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        head = json.loads(first) if first.strip() else None
    except ValueError:
        head = None
    evidence: list[dict[str, Any]] = []
    if isinstance(head, dict) and head.get("type") == "header":

        def lines() -> Iterator[dict[str, Any]]:
            with path.open("r", encoding="utf-8") as handle:
                handle.readline()
                for number, line in enumerate(handle, start=2):
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                    except ValueError as exc:
                        raise ExportUnreadable(f"line {number} is not JSON") from exc
                    kind = item.get("type") if isinstance(item, dict) else None
                    if kind == "entry":
                        yield item
                    elif kind == "evidence":
                        evidence.append(item)
                    else:
                        raise ExportUnreadable(f"line {number} is neither an entry nor evidence")

        return head, lines(), evidence
    try:
        whole = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ExportUnreadable("the file is neither NDJSON nor JSON") from exc
    if not isinstance(whole, dict) or not isinstance(whole.get("entries"), list):
        raise ExportUnreadable("the JSON has no header and entries")
    if isinstance(whole.get("evidence"), dict):
        evidence.append(whole["evidence"])
    return whole.get("header") or {}, iter(whole["entries"]), evidence


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise ExportUnreadable(f"{what} is not a list")
    try:
        return [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, TypeError) as exc:
        raise ExportUnreadable(f"{what} holds something that is not base64") from exc


def _public_key(
    evidence: dict[str, Any], key_id: str, keys_file: Path | None
) -> tuple[bytes | None, str]:
    if keys_file is not None:
        document = json.loads(keys_file.read_text(encoding="utf-8"))
        keys = [k for k in document.get("keys", []) if k.get("kid") == key_id]
        source = f"keys file {keys_file.name}"
    else:
        embedded = (evidence.get("checkpoint") or {}).get("public_key")
        keys = [embedded] if isinstance(embedded, dict) and embedded.get("kid") == key_id else []
        source = "the export itself (compare it with the published keys)"
    if not keys:
        return None, source
    x = str(keys[0].get("x", ""))
    return base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)), source


def verify_export(path: Path, keys_file: Path | None = None) -> ExportCheck:
    """Check an export file; the result lists every problem found (none: it verifies)."""
    check = ExportCheck()
    header, entries, evidence_box = _parts(path)
    leaves: dict[int, bytes] = {}
    org_ids: set[str] = set()
    for entry in entries:
        check.entries += 1
        index = entry.get("leaf_index")
        if not isinstance(index, int) or isinstance(index, bool):
            check.not_covered += 1
            continue
        try:
            leaf = encoding.leaf_hash(entry)
        except encoding.EncodingError as exc:
            check.problems.append(f"entry {entry.get('id')}: {exc}")
            continue
        if index in leaves:
            check.problems.append(f"leaf {index} appears twice")
        leaves[index] = leaf
        org_ids.add(str(entry.get("org_id")))
    if not evidence_box:
        check.problems.append("the export carries no evidence")
        return check
    evidence = evidence_box[0]
    checkpoint, covered = evidence.get("checkpoint"), evidence.get("range")
    if not isinstance(checkpoint, dict) or not isinstance(covered, dict):
        check.problems.append("the evidence has no checkpoint covering these entries")
        return check
    try:
        note = signing.parse_note(str(checkpoint.get("note", "")))
    except signing.NoteError as exc:
        check.problems.append(f"checkpoint note: {exc}")
        return check
    first, last = int(covered["first_leaf"]), int(covered["last_leaf"])
    check.range = (first, last)
    check.checkpoint_size, check.key_id = note.tree_size, note.key_id
    org = str(evidence.get("org_id"))
    if str(note.org_id) != org or (header.get("org_id") and str(header["org_id"]) != org):
        check.problems.append("the checkpoint is another organization's")
    if org_ids - {org}:
        check.problems.append("entries of another organization are in the export")
    # 1-2. The covered leaves, each once; the others are only counted.
    frontier_hashes = _hashes(evidence.get("left_frontier"), "left_frontier")
    try:
        frontier = merkle.Frontier.from_hashes(first, frontier_hashes)
    except merkle.ProofError as exc:
        check.problems.append(f"left_frontier: {exc}")
        return check
    for index in range(first, last + 1):
        if index not in leaves:
            check.problems.append(f"leaf {index} is not in the export (filtered or removed)")
            return check
        frontier.append(leaves.pop(index))
        check.verified += 1
    check.not_covered += len(leaves)
    # 3. The consistency proof to the signed root.
    try:
        merkle.verify_consistency(
            last + 1,
            note.tree_size,
            frontier.root(),
            note.root_hash,
            _hashes(evidence.get("consistency_proof"), "consistency_proof"),
        )
    except merkle.ProofError as exc:
        check.problems.append(f"the entries do not match the signed checkpoint: {exc}")
    # 4. The signature.
    public, source = _public_key(evidence, note.key_id, keys_file)
    check.key_source = source
    if public is None:
        check.problems.append(f"no public key {note.key_id} in {source}")
    elif not signing.verify_signature(public, note.body, note.signature):
        check.problems.append("the checkpoint's signature does not verify")
    return check
