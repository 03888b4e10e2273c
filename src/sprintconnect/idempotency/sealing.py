"""Stored answers are sealed: they may carry a secret that the API shows only once."""

from __future__ import annotations

import os
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sprintconnect.kit.secrets import KeyRing

PURPOSE = "idempotency/response-body"
NONCE_BYTES = 12


def _context(org_id: UUID, caller_id: UUID, key: str) -> bytes:
    # Bound as associated data: a sealed answer cannot be moved to another key or tenant.
    return b"\x00".join((org_id.bytes, caller_id.bytes, key.encode("ascii")))


def seal(keyring: KeyRing, org_id: UUID, caller_id: UUID, key: str, body: bytes) -> bytes:
    """AES-256-GCM under a key derived for this purpose; the nonce leads the result."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keyring.derive(PURPOSE)).encrypt(nonce, body, _context(org_id, caller_id, key))
    return nonce + sealed


def unseal(keyring: KeyRing, org_id: UUID, caller_id: UUID, key: str, sealed: bytes) -> bytes:
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    return AESGCM(keyring.derive(PURPOSE)).decrypt(
        nonce, ciphertext, _context(org_id, caller_id, key)
    )
