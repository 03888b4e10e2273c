"""``sprintconnect tokens ...``: rotate or withdraw the token service's signing keys, list them.

``register`` adds the commands to a ``tokens`` group of the main CLI.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from sprintconnect.runtime import Runtime


def _describe(key: Any) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "created_at": key.created_at.isoformat(),
        "activates_at": key.activates_at.isoformat(),
        "retires_at": key.retires_at.isoformat() if key.retires_at else None,
        "withdrawn_at": key.withdrawn_at.isoformat() if key.withdrawn_at else None,
    }


def register(group: typer.Typer) -> None:
    """Add the signing-key commands to ``group``."""

    @group.command("keys")
    def list_keys() -> None:
        """List the signing keys a valid token may be signed with (as published)."""
        from datetime import timedelta

        from sprintconnect.cli import _run_db, _settings
        from sprintconnect.identity.tokens.keys import LEEWAY
        from sprintconnect.identity.tokens.repository import SigningKeyRepository

        settings = _settings()

        async def work(runtime: Runtime) -> list[dict[str, Any]]:
            lifetime = timedelta(seconds=settings.access_token_seconds)
            async with runtime.db.sessionmaker() as session, session.begin():
                keys = await SigningKeyRepository(session).live(
                    runtime.clock.now() - lifetime - LEEWAY
                )
                return [_describe(k) for k in keys]

        typer.echo(json.dumps(_run_db(settings, work), indent=2))

    @group.command("rotate-key")
    def rotate_key(
        now: Annotated[
            bool,
            typer.Option(
                "--now/--scheduled",
                help="Sign with the new key at once (default: after the 10 minute lead, so "
                "that cached JWKS learn it first).",
            ),
        ] = False,
    ) -> None:
        """Make a new ES256 signing key; the old one stays published until its tokens expire."""
        from datetime import timedelta

        from sprintconnect import audit
        from sprintconnect.cli import _run_db, _settings
        from sprintconnect.identity.principal import Actor
        from sprintconnect.identity.tokens.keys import PUBLISH_LEAD, rotate

        settings = _settings()

        async def work(runtime: Runtime) -> dict[str, Any]:
            async with runtime.db.sessionmaker() as session, session.begin():
                lead = timedelta(0) if now else PUBLISH_LEAD
                key = await rotate(session, runtime.keyring, runtime.clock.now(), lead=lead)
                await audit.record_platform(
                    session,
                    audit.AuditTag.TOKEN_KEY_ROTATED,
                    actor=Actor("system", "cli"),
                    target=audit.Target("token_signing_key", key.kid),
                    details={"activates_at": key.activates_at.isoformat()},
                )
                return _describe(key)

        typer.echo(json.dumps(_run_db(settings, work), indent=2))

    @group.command("withdraw-key")
    def withdraw_key(
        kid: Annotated[str, typer.Argument(help="The key id (kid) to withdraw.")],
    ) -> None:
        """Stop publishing a key at once (suspected compromise).

        Every token it signed is refused within a minute by every process. A new key signs
        the next token.
        """
        from sprintconnect import audit
        from sprintconnect.cli import _run_db, _settings
        from sprintconnect.identity.principal import Actor
        from sprintconnect.identity.tokens.keys import ensure_key, withdraw

        settings = _settings()

        async def work(runtime: Runtime) -> bool:
            async with runtime.db.sessionmaker() as session, session.begin():
                done = await withdraw(session, kid, runtime.clock.now())
                if done:
                    await ensure_key(session, runtime.keyring, runtime.clock.now())
                    await audit.record_platform(
                        session,
                        audit.AuditTag.TOKEN_KEY_ROTATED,
                        actor=Actor("system", "cli"),
                        target=audit.Target("token_signing_key", kid),
                        details={"withdrawn": True},
                    )
                return done

        if not _run_db(settings, work):
            typer.echo(f"error: no published key has the id {kid!r}", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps({"kid": kid, "withdrawn": True}))
