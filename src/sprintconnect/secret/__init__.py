"""Credentials kept in a secret store: local envelope encryption or Vault / OpenBao KV v2."""

from sprintconnect.secret.errors import (
    InvalidSecretPath,
    InvalidSecretValue,
    KeyRotationUnsupported,
    SecretIntegrityError,
    SecretNotFound,
    SecretStoreUnavailable,
)
from sprintconnect.secret.factory import build_secret_store, vault_store
from sprintconnect.secret.local import DataKeyRotation, LocalSecretStore
from sprintconnect.secret.store import (
    KeyRotation,
    SecretMetadata,
    SecretStore,
    SecretValue,
    validate_path,
)
from sprintconnect.secret.vault import VaultSecretStore

__all__ = [
    "DataKeyRotation",
    "InvalidSecretPath",
    "InvalidSecretValue",
    "KeyRotation",
    "KeyRotationUnsupported",
    "LocalSecretStore",
    "SecretIntegrityError",
    "SecretMetadata",
    "SecretNotFound",
    "SecretStore",
    "SecretStoreUnavailable",
    "SecretValue",
    "VaultSecretStore",
    "build_secret_store",
    "validate_path",
    "vault_store",
]
