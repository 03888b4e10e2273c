"""What the ledger's API answers: checkpoints, proofs, verification reports, public keys.

Hashes and signatures are standard base64 strings (RFC 4648 section 4, with padding).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

_ROOT = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
_ORG = "0b9d6a52-6c1e-4f39-8f0a-3e6b2d7c4a91"
_NOTE = (
    f"sprintconnect/audit/{_ORG}\n8\n{_ROOT}\n2026-11-28T10:15:00.000000Z\n\n"
    "\u2014 q3J9xvY2cFh1bW8k 2hV5...base64 signature...==\n"
)


class Checkpoint(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tree_size": 8,
                    "root_hash": _ROOT,
                    "issued_at": "2026-11-28T10:15:00Z",
                    "key_id": "q3J9xvY2cFh1bW8k",
                    "signature": "2hV5...base64...==",
                    "note": _NOTE,
                }
            ]
        }
    )

    tree_size: int = Field(description="How many entries (leaves) the signed tree holds.")
    root_hash: str = Field(description="The Merkle root (RFC 6962), base64.")
    issued_at: datetime = Field(description="When it was signed (UTC).")
    key_id: str = Field(description="The signing key, as listed at the keys URL.")
    signature: str = Field(description="Ed25519 signature of the note's body, base64.")
    note: str = Field(
        description="The signed note: the body (origin `sprintconnect/audit/<org id>`, tree "
        "size, root, time; one line each), an empty line, and the signature line."
    )


class CheckpointPage(BaseModel):
    items: list[Checkpoint]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to fetch the next page; null on the last."
    )


class InclusionProof(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "5a0f3c2e-8d71-4b6a-9e45-0c1d2b3a4f56",
                    "leaf_index": 5,
                    "tree_size": 8,
                    "leaf_hash": "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=",
                    "root_hash": _ROOT,
                    "proof": [
                        "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
                        "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                        "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
                    ],
                    "checkpoint": None,
                }
            ]
        }
    )

    event_id: UUID
    leaf_index: int = Field(description="The entry's place in the tree, from 0.")
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || canonical entry), base64.")
    root_hash: str = Field(description="The root the proof leads to, base64.")
    proof: list[str] = Field(description="The audit path (RFC 9162 2.1.3), sibling first.")
    checkpoint: Checkpoint | None = Field(
        description="The signed checkpoint of that size, when there is one."
    )


class ConsistencyProof(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "first": 6,
                    "second": 8,
                    "first_root_hash": "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
                    "second_root_hash": _ROOT,
                    "proof": [
                        "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
                        "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                        "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
                    ],
                    "first_checkpoint": None,
                    "second_checkpoint": None,
                }
            ]
        }
    )

    first: int
    second: int
    first_root_hash: str
    second_root_hash: str
    proof: list[str] = Field(description="The consistency proof (RFC 9162 2.1.4).")
    first_checkpoint: Checkpoint | None
    second_checkpoint: Checkpoint | None


class VerifyProblem(BaseModel):
    class_: Literal["edited", "deleted", "inserted", "reordered", "truncated"] = Field(
        alias="class", description="What happened to the entry."
    )
    leaf_index: int | None = Field(description="Where in the ledger (the first such leaf).")
    event_id: UUID | None = Field(description="The entry, when it can be named.")
    detail: str

    model_config = ConfigDict(populate_by_name=True)


class VerifyCheckpoint(BaseModel):
    tree_size: int
    root_hash: str
    key_id: str
    issued_at: datetime
    signature_valid: bool = Field(description="The signature verifies with the listed key.")
    root_matches: bool = Field(description="The recomputed tree has the signed root.")


class VerifyReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "tampered",
                    "tree_size": 1204,
                    "pending": 0,
                    "problem": {
                        "class": "edited",
                        "leaf_index": 17,
                        "event_id": "5a0f3c2e-8d71-4b6a-9e45-0c1d2b3a4f56",
                        "detail": "the entry differs from what was sequenced",
                    },
                    "checkpoint": {
                        "tree_size": 1200,
                        "root_hash": _ROOT,
                        "key_id": "q3J9xvY2cFh1bW8k",
                        "issued_at": "2026-11-28T10:15:00Z",
                        "signature_valid": True,
                        "root_matches": False,
                    },
                    "first_mismatching_checkpoint": 1200,
                    "last_matching_checkpoint": None,
                }
            ]
        }
    )

    status: Literal["intact", "tampered"]
    tree_size: int = Field(description="Leaves in the ledger.")
    pending: int = Field(description="Entries written but not sequenced yet (not checked).")
    problem: VerifyProblem | None = Field(description="The first problem found, by leaf.")
    checkpoint: VerifyCheckpoint | None = Field(description="The latest signed checkpoint.")
    first_mismatching_checkpoint: int | None = Field(
        description="The smallest checkpoint size whose signed root no longer matches."
    )
    last_matching_checkpoint: int | None = Field(
        description="The largest checkpoint size whose signed root still matches."
    )


class SigningKey(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str = Field(description="The raw public key, base64url.")
    kid: str
    use: Literal["sig"]
    alg: Literal["EdDSA"]
    created_at: str
    retired_at: str | None


class SigningKeySet(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "keys": [
                        {
                            "kty": "OKP",
                            "crv": "Ed25519",
                            "x": "a3Ol1J2PyfV3G438ggyhuKp1SD-6P1_QLNcX10jSKJI",
                            "kid": "q3J9xvY2cFh1bW8k",
                            "use": "sig",
                            "alg": "EdDSA",
                            "created_at": "2026-11-01T00:00:00.000000Z",
                            "retired_at": None,
                        }
                    ]
                }
            ]
        }
    )

    keys: list[SigningKey]
