"""Checkpoint signing: the platform's Ed25519 keys and the signed note format.

A checkpoint's signed body is text in the manner of a C2SP checkpoint, one line each, every
line ending in ``\\n``::

    sprintconnect/audit/<org id>
    <tree size, decimal>
    <root hash, standard base64>
    <issued time, UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>

The note is the body, an empty line, and one signature line ``— <key id> <base64 signature>``
(an em dash and a space first). The Ed25519 signature is over the body's UTF-8 bytes.

A key id is the first 16 characters of base64url(SHA-256(raw 32-byte public key)). Private
keys are sealed (AES-256-GCM, the key id as associated data) under a key derived from the
master key ring, the same root of trust as the local secret store; public keys stay listed
after rotation so older checkpoints still verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwk import OKPKey
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.audit.ledger.repository import LedgerRepository
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.models import AuditSigningKey

ORIGIN_PREFIX = "sprintconnect/audit/"
SEAL_PURPOSE = "audit-ledger-signing-key:v1"
SIGNATURE_MARK = "\u2014 "


class NoteError(ValueError):
    """A signed note that cannot be read."""


def key_id_for(public_raw: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(public_raw).digest()).decode()
    return digest.rstrip("=")[:16]


def _public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_body(org_id: UUID, tree_size: int, root_hash: bytes, issued_at: datetime) -> str:
    return (
        f"{ORIGIN_PREFIX}{org_id}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"
        f"{format_time(issued_at)}\n"
    )


def signed_note(body: str, key_id: str, signature: bytes) -> str:
    return f"{body}\n{SIGNATURE_MARK}{key_id} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    body: str
    org_id: UUID
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    key_id: str
    signature: bytes


def parse_note(text: str) -> Note:
    """The parts of a signed note; ``NoteError`` when it is not one."""
    body, sep, signatures = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) != 4:
        raise NoteError("a checkpoint note has four body lines, an empty line, a signature")
    origin, size, root, issued = lines
    sig_lines = [line for line in signatures.split("\n") if line]
    if len(sig_lines) != 1 or not sig_lines[0].startswith(SIGNATURE_MARK):
        raise NoteError("the note has no signature line")
    try:
        key_id, signature = sig_lines[0][len(SIGNATURE_MARK) :].split(" ")
        org_id = UUID(origin.removeprefix(ORIGIN_PREFIX))
        if not origin.startswith(ORIGIN_PREFIX) or not size.isdigit():
            raise ValueError("origin or size")
        return Note(
            body=body + "\n",
            org_id=org_id,
            tree_size=int(size),
            root_hash=base64.b64decode(root, validate=True),
            issued_at=datetime.strptime(issued, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            key_id=key_id,
            signature=base64.b64decode(signature, validate=True),
        )
    except (ValueError, binascii.Error) as exc:
        raise NoteError(f"the note is malformed: {exc}") from exc


def verify_signature(public_raw: bytes, body: str, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, body.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def jwk(key: AuditSigningKey) -> dict[str, Any]:
    """The public key as a JWK (OKP, Ed25519), with its created and retired times."""
    pem = Ed25519PublicKey.from_public_bytes(key.public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    built = OKPKey.import_key(pem, {"kid": key.key_id, "use": "sig", "alg": "EdDSA"})
    document: dict[str, Any] = dict(built.as_dict(private=False))
    document["created_at"] = format_time(key.created_at)
    document["retired_at"] = format_time(key.retired_at) if key.retired_at else None
    return document


class Signer:
    """An unsealed private key, ready to sign checkpoint bodies."""

    def __init__(self, key_id: str, private: Ed25519PrivateKey) -> None:
        self.key_id = key_id
        self._private = private

    def sign(self, body: str) -> bytes:
        return self._private.sign(body.encode("utf-8"))


def _aead(keyring: KeyRing) -> AESGCM:
    return AESGCM(keyring.derive(SEAL_PURPOSE, 32))


def _new_key(keyring: KeyRing, now: datetime) -> AuditSigningKey:
    private = Ed25519PrivateKey.generate()
    public_raw = _public_raw(private.public_key())
    key_id = key_id_for(public_raw)
    nonce = os.urandom(12)
    private_raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    sealed = _aead(keyring).encrypt(nonce, private_raw, key_id.encode())
    return AuditSigningKey(
        key_id=key_id,
        public_key=public_raw,
        private_nonce=nonce,
        private_sealed=sealed,
        created_at=now,
    )


def _signer(keyring: KeyRing, key: AuditSigningKey) -> Signer:
    raw = _aead(keyring).decrypt(key.private_nonce, key.private_sealed, key.key_id.encode())
    return Signer(key.key_id, Ed25519PrivateKey.from_private_bytes(raw))


async def active_signer(session: AsyncSession, keyring: KeyRing, now: datetime) -> Signer:
    """The active key's signer; the first key is created on first use."""
    repo = LedgerRepository(session)
    key = await repo.active_key()
    if key is None:
        await repo.lock_keys()
        key = await repo.active_key()
        if key is None:
            key = _new_key(keyring, now)
            await repo.add_key(key)
    return _signer(keyring, key)


async def rotate_key(session: AsyncSession, keyring: KeyRing, now: datetime) -> AuditSigningKey:
    """Retire the active key (it stays listed) and make a new one active."""
    repo = LedgerRepository(session)
    await repo.lock_keys()
    await repo.retire_keys(now)
    key = _new_key(keyring, now)
    await repo.add_key(key)
    return key
