"""``sprintconnect audit ...``: verify an organization's ledger, rotate the signing key, verify
an export offline. ``register`` adds the commands to the ``audit`` group of the main CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sprintconnect.runtime import Runtime


def register(group: typer.Typer) -> None:
    """Add the ledger's commands to ``group``."""

    @group.command("verify")
    def verify(
        org: Annotated[str, typer.Option("--org", help="Organization id, slug or name.")],
        sequence_first: Annotated[
            bool,
            typer.Option(
                "--sequence/--no-sequence",
                help="Sequence pending entries before verifying (default: no; verify reads).",
            ),
        ] = False,
    ) -> None:
        """Recompute an organization's audit ledger against its entries and latest checkpoint.

        Exits 1 when anything was tampered with, naming the first entry affected.
        """
        from sprintconnect.audit.ledger.sequencer import sequence
        from sprintconnect.audit.ledger.verify import report_json, verify_org
        from sprintconnect.cli import _run_db, _settings
        from sprintconnect.organization.service import resolve_organization

        settings = _settings()

        async def work(runtime: Runtime) -> dict[str, Any]:
            async with runtime.db.sessionmaker() as session, session.begin():
                organization = await resolve_organization(session, org)
                if sequence_first:
                    await sequence(session, organization.id, runtime.clock.now())
                report = await verify_org(session, organization.id)
                return {"organization_id": str(organization.id), **report_json(report)}

        result = _run_db(settings, work)
        typer.echo(json.dumps(result, indent=2))
        if result["status"] != "intact":
            raise typer.Exit(1)

    @group.command("rotate-key")
    def rotate_key() -> None:
        """Make a new Ed25519 checkpoint signing key active.

        The old keys stay listed at /.well-known/sprintconnect-audit-keys, so older
        checkpoints still verify.
        """
        from sprintconnect import audit
        from sprintconnect.audit import AuditTag
        from sprintconnect.audit.ledger.signing import format_time, rotate_key
        from sprintconnect.cli import _run_db, _settings
        from sprintconnect.identity.principal import Actor

        settings = _settings()

        async def work(runtime: Runtime) -> dict[str, Any]:
            async with runtime.db.sessionmaker() as session, session.begin():
                key = await rotate_key(session, runtime.keyring, runtime.clock.now())
                await audit.record_platform(
                    session,
                    AuditTag.AUDIT_KEY_ROTATED,
                    actor=Actor("system", "cli"),
                    target=audit.Target("audit_signing_key", key.key_id),
                )
                return {"key_id": key.key_id, "created_at": format_time(key.created_at)}

        typer.echo(json.dumps(_run_db(settings, work), indent=2))

    @group.command("verify-export")
    def verify_export(
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, help="An NDJSON or JSON export.")
        ],
        keys: Annotated[
            Path | None,
            typer.Option(
                "--keys",
                exists=True,
                dir_okay=False,
                help="The JWKS from /.well-known/sprintconnect-audit-keys (recommended).",
            ),
        ] = None,
    ) -> None:
        """Verify an audit export file offline; no server needed.

        Checks every covered entry's leaf, the proof to the signed checkpoint and its
        signature; exits 1 on any problem.
        """
        from sprintconnect.audit.ledger.offline import ExportUnreadable
        from sprintconnect.audit.ledger.offline import verify_export as check_export

        try:
            result = check_export(file, keys)
        except ExportUnreadable as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(json.dumps(result.as_json(), indent=2))
        if not result.ok:
            raise typer.Exit(1)
