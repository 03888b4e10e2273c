"""``sprintconnect secrets ...``: key rotation for the secret store.

``build_cli()`` returns the Typer sub-app; the main CLI registers it under ``secrets``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from sprintconnect.runtime import Runtime
from sprintconnect.secret.factory import build_secret_store
from sprintconnect.secret.local import DataKeyRotation, LocalSecretStore
from sprintconnect.secret.store import KeyRotation


def _rotation_json(result: KeyRotation) -> dict[str, Any]:
    return {
        "backend": result.backend,
        "kek_version": result.kek_version,
        "organizations": result.organizations,
        "rewrapped_keys": result.rewrapped_keys,
        "failed_organizations": [str(org) for org in result.failed_organizations],
    }


def build_cli() -> typer.Typer:
    """The ``secrets`` command group."""
    app = typer.Typer(help="Secret store maintenance.", no_args_is_help=True)

    @app.command("rotate-key")
    def rotate_key() -> None:
        """Re-wrap every organization's data keys under the configured KEK version.

        Raise SPRINTCONNECT_SECRET_STORE_KEK_VERSION everywhere first, then run this once;
        secrets stay readable throughout, and an interrupted run can simply be run again.
        """
        # Imported here: the main CLI imports this module to register the sub-app.
        from sprintconnect.cli import _run_db, _settings

        settings = _settings()

        async def work(runtime: Runtime) -> KeyRotation:
            store = build_secret_store(runtime)
            try:
                return await store.rotate_keys()
            finally:
                await store.close()

        result = _run_db(settings, work)
        typer.echo(json.dumps(_rotation_json(result), indent=2))
        if result.failed_organizations:
            typer.echo(
                "error: some organizations' data keys failed their integrity check", err=True
            )
            raise typer.Exit(1)

    @app.command("rotate-data-key")
    def rotate_data_key(
        org: Annotated[str, typer.Option("--org", help="Organization id, slug or name.")],
    ) -> None:
        """Give one organization a new data key and re-encrypt its secrets (local store)."""
        from sprintconnect.cli import _run_db, _settings
        from sprintconnect.organization.service import resolve_organization

        settings = _settings()
        if settings.secret_store != "local":  # noqa: S105 - a backend name
            typer.echo("error: data keys belong to the local secret store only", err=True)
            raise typer.Exit(2)

        async def work(runtime: Runtime) -> DataKeyRotation:
            async with runtime.db.sessionmaker() as session, session.begin():
                org_id = (await resolve_organization(session, org)).id
            store = build_secret_store(runtime)
            assert isinstance(store, LocalSecretStore)
            return await store.rotate_data_key(org_id)

        result = _run_db(settings, work)
        typer.echo(
            json.dumps(
                {
                    "organization_id": str(result.org_id),
                    "dek_version": result.dek_version,
                    "reencrypted_secrets": result.reencrypted,
                },
                indent=2,
            )
        )

    return app
