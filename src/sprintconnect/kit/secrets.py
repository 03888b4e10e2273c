"""Key material: the master secret, keys derived from it, and constant-time HMACs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import structlog
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = structlog.get_logger(__name__)

SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name


class KeyRing:
    """Derives one independent sub-key per purpose from the master secret (HKDF-SHA256)."""

    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("the master secret must hold at least 32 bytes")
        self._master = master
        self._cache: dict[str, bytes] = {}

    def derive(self, purpose: str, length: int = 32) -> bytes:
        key = f"{purpose}:{length}"
        if key not in self._cache:
            hkdf = HKDF(
                algorithm=hashes.SHA256(),
                length=length,
                salt=b"sprintconnect/v1",
                info=purpose.encode(),
            )
            self._cache[key] = hkdf.derive(self._master)
        return self._cache[key]

    def hmac(self, purpose: str, message: bytes) -> bytes:
        return hmac.new(self.derive(purpose), message, hashlib.sha256).digest()

    def derived_password(self, purpose: str) -> str:
        """A printable secret for things that want a password (e.g. a database role)."""
        return base64.urlsafe_b64encode(self.derive(purpose, 24)).decode().rstrip("=")


def load_or_create_master(data_dir: Path, configured: str | None) -> bytes:
    """Return the configured secret, or the one in the data dir, generating it when absent."""
    if configured is not None:
        return configured.encode()
    path = data_dir / SECRET_FILE_NAME
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value + b"\n")
    log.warning(
        "secret_key.generated",
        path=str(path),
        hint="set SPRINTCONNECT_SECRET_KEY in production; this file must be kept and backed up",
    )
    return value


def constant_time_equals(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
