"""Envelope encryption for the local store (AES-256-GCM throughout).

A key-encryption key (KEK) per version is derived from the master secret; it wraps each
organization's random data key (DEK), which encrypts that organization's secrets. Associated
data binds a wrapped DEK to (organization, DEK version, KEK version) and a secret's ciphertext
to (organization, DEK version, path): a blob copied to another row fails to decrypt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sprintconnect.kit.secrets import KeyRing

KEY_BYTES = 32
NONCE_BYTES = 12
_SECRET_AD = b"sprintconnect/secret/v1\x00"
_DEK_AD = b"sprintconnect/secret-dek/v1\x00"


def kek_purpose(version: int) -> str:
    """The key-ring purpose a KEK version is derived under."""
    return f"secret-store/kek/v{version}"


@dataclass(frozen=True)
class Sealed:
    """An AES-GCM nonce and the ciphertext (with its tag) it produced."""

    nonce: bytes
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"Sealed(<{len(self.ciphertext)} bytes>)"


def _u32(number: int) -> bytes:
    return number.to_bytes(4, "big")


def _secret_ad(org_id: UUID, dek_version: int, path: str) -> bytes:
    # Fixed-width fields first and the path last, so no two inputs share an encoding.
    return _SECRET_AD + org_id.bytes + _u32(dek_version) + path.encode()


def _dek_ad(org_id: UUID, dek_version: int, kek_version: int) -> bytes:
    return _DEK_AD + org_id.bytes + _u32(dek_version) + _u32(kek_version)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


class KeyWrapper:
    """Wraps and unwraps data keys under the KEK versions derived from one key ring."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring

    def _kek(self, version: int) -> AESGCM:
        if version < 1:
            raise ValueError("KEK versions start at 1")
        return AESGCM(self._keyring.derive(kek_purpose(version), KEY_BYTES))

    def wrap(self, key: bytes, *, org_id: UUID, dek_version: int, kek_version: int) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        wrapped = self._kek(kek_version).encrypt(
            nonce, key, _dek_ad(org_id, dek_version, kek_version)
        )
        return Sealed(nonce, wrapped)

    def unwrap(self, sealed: Sealed, *, org_id: UUID, dek_version: int, kek_version: int) -> bytes:
        """The data key; raises ``cryptography.exceptions.InvalidTag`` when anything differs."""
        return self._kek(kek_version).decrypt(
            sealed.nonce, sealed.ciphertext, _dek_ad(org_id, dek_version, kek_version)
        )


def seal(key: bytes, plaintext: bytes, *, org_id: UUID, dek_version: int, path: str) -> Sealed:
    nonce = os.urandom(NONCE_BYTES)
    return Sealed(
        nonce, AESGCM(key).encrypt(nonce, plaintext, _secret_ad(org_id, dek_version, path))
    )


def unseal(key: bytes, sealed: Sealed, *, org_id: UUID, dek_version: int, path: str) -> bytes:
    """The plaintext; raises ``cryptography.exceptions.InvalidTag`` when anything differs."""
    return AESGCM(key).decrypt(
        sealed.nonce, sealed.ciphertext, _secret_ad(org_id, dek_version, path)
    )
