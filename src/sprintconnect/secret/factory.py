"""Building the configured secret store from a process's runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sprintconnect.config import Settings
from sprintconnect.secret.local import LocalSecretStore
from sprintconnect.secret.store import SecretStore
from sprintconnect.secret.vault import VaultSecretStore

if TYPE_CHECKING:  # the runtime may come to hold a store; keep the import one-way
    from sprintconnect.runtime import Runtime


def vault_store(settings: Settings) -> VaultSecretStore:
    """The Vault / OpenBao store the settings describe."""
    if settings.vault_url is None or settings.vault_token is None:
        raise ValueError("the vault secret store needs a vault URL and token")
    return VaultSecretStore(
        url=settings.vault_url,
        token=settings.vault_token.get_secret_value(),
        mount=settings.vault_mount,
        path_prefix=settings.vault_path_prefix,
        namespace=settings.vault_namespace,
        timeout=settings.vault_timeout_seconds,
        verify=str(settings.vault_ca_bundle) if settings.vault_ca_bundle else True,
    )


def build_secret_store(runtime: Runtime) -> SecretStore:
    """The backend ``SPRINTCONNECT_SECRET_STORE`` names: ``local`` (default) or ``vault``."""
    settings = runtime.settings
    if settings.secret_store == "vault":  # noqa: S105 - a backend name
        return vault_store(settings)
    return LocalSecretStore(
        runtime.db.sessionmaker,
        runtime.keyring,
        kek_version=settings.secret_store_kek_version,
        clock=runtime.clock,
    )
