"""The ``sprintconnect`` command: serve, worker, migrate and admin tasks."""

from __future__ import annotations

import asyncio
import errno
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from sprintconnect import __version__
from sprintconnect.config import Settings
from sprintconnect.errors import SprintConnectError
from sprintconnect.logging import configure_logging
from sprintconnect.runtime import Runtime, build_runtime

T = TypeVar("T")

app = typer.Typer(
    name="sprintconnect",
    help="SprintConnect: a multi-tenant control plane for MCP servers.\n\n"
    "Configuration comes from SPRINTCONNECT_* environment variables (see the README).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
admin_app = typer.Typer(
    help="Operator tasks run against the database directly.", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")


def _register_secrets() -> None:
    from sprintconnect.secret.cli import build_cli

    app.add_typer(build_cli(), name="secrets", help="Secret store key rotation.")


_register_secrets()

audit_app = typer.Typer(help="The audit log: verification and signing keys.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _register_audit_ledger() -> None:
    from sprintconnect.audit.ledger.cli import register

    register(audit_app)


_register_audit_ledger()

tokens_app = typer.Typer(help="The token service's signing keys.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


def _register_tokens() -> None:
    from sprintconnect.identity.tokens.cli import register

    register(tokens_app)


_register_tokens()


# Set by the top-level --verbose: commands other than serve and worker then log as configured.
_verbose = False


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"sprintconnect {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show log lines from one-off commands too (they print only their result).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    global _verbose
    _verbose = verbose


def _settings(*, logs: bool = False, **overrides: Any) -> Settings:
    """Settings from the environment; a clear message and exit 2 when they are not valid.

    ``logs``: the command's output is its log (serve, worker). Other commands print their
    result and only warnings from the logs, unless --verbose.
    """
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in exc.errors()
        ]
        typer.echo("Configuration is not valid:\n" + "\n".join(lines), err=True)
        raise typer.Exit(2) from exc
    except SettingsError as exc:  # e.g. a list setting that is not JSON
        typer.echo(f"Configuration is not valid:\n  {exc}", err=True)
        raise typer.Exit(2) from exc
    level = settings.log_level
    if not logs:
        level = ("debug" if level == "debug" else "info") if _verbose else "warning"
    configure_logging(level, settings.log_format)
    return settings


def _step(message: str) -> None:
    typer.echo(message, err=True)


def _run_db(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def runner() -> T:
        runtime = build_runtime(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.db.dispose()

    try:
        return asyncio.run(runner())
    except SprintConnectError as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of to stdout.")
    ] = None,
) -> None:
    """Print the OpenAPI document (the web console's typed client is generated from it)."""
    from sprintconnect.app import create_app

    document = json.dumps(create_app().openapi(), indent=1, sort_keys=True) + "\n"
    if output is None:
        typer.echo(document, nl=False)
    else:
        output.write_text(document)
        _step(f"wrote {output}")


# uvicorn's httptools protocol with a bound on unfinished request heads (ops.http_protocol),
# named as an import string so that commands other than ``serve`` never load uvicorn. The
# bound sits above the app's own limits (kit.input: MAX_URL_BYTES, MAX_HEADER_BYTES), so a
# request just over those still reaches the app and is refused as problem+json; only what
# exceeds this hard limit gets the server's plain-text 400 (see docs/operator-guide.md).
UVICORN_LIMITS: dict[str, Any] = {
    "http": "sprintconnect.ops.http_protocol:BoundedHttpToolsProtocol"
}


def _bind(host: str, port: int, setting: str) -> socket.socket:
    """A bound socket for ``uvicorn`` to serve, or one clear line and exit 1."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        typer.echo(
            f"cannot listen on {host}: {exc.strerror or exc}; set SPRINTCONNECT_HOST", err=True
        )
        raise typer.Exit(1) from exc
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        # Listening at once holds the port: with SO_REUSEADDR a socket that is only bound
        # does not stop another from binding the same port. Connections wait in the backlog
        # until the app has started.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            typer.echo(f"port {port} is in use; set {setting}", err=True)
        else:
            typer.echo(f"cannot listen on {host}:{port}: {exc.strerror}; set {setting}", err=True)
        raise typer.Exit(1) from exc
    sock.set_inheritable(True)
    return sock


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default: SPRINTCONNECT_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: SPRINTCONNECT_PORT or 8000).")
    ] = None,
) -> None:
    """Start the HTTP API (run 'migrate' first)."""
    import uvicorn

    from sprintconnect.app import create_app

    settings = _settings(logs=True, host=host, port=port)
    # Bound before anything starts (the app, its in-process worker), so a port in use is
    # one line and exit 1, not a worker that starts and a server that never listens.
    sockets = [_bind(settings.host, settings.port, "SPRINTCONNECT_PORT")]
    where = f"http://{settings.host}:{settings.port}"
    if settings.metrics_port is not None:
        metrics_host = settings.metrics_host or settings.host
        sockets.append(_bind(metrics_host, settings.metrics_port, "SPRINTCONNECT_METRICS_PORT"))
        where += f" (metrics on http://{metrics_host}:{settings.metrics_port}/metrics)"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # the app started and the sockets accept connections
                from sprintconnect.kit.heap import freeze_startup_heap

                freeze_startup_heap()
                _step(f"SprintConnect {__version__} listening on {where}")

    server_app = create_app(settings)
    from sprintconnect.identity.session.devidp import start_dev_idp

    # The development identity provider (development only, unless SPRINTCONNECT_DEV_IDP=false):
    # started here rather than in the app, so that apps built by tests do not each start one.
    server_app.state.dev_idp = start_dev_idp(settings)
    if server_app.state.dev_idp is not None:
        where += f" (development sign-in provider on {server_app.state.dev_idp.issuer})"
    config = uvicorn.Config(
        server_app,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        **UVICORN_LIMITS,
    )
    Server(config).run(sockets=sockets)


@app.command()
def worker() -> None:
    """Run background jobs: discoveries, the outbox relay, stalled-job recovery. Stop: Ctrl-C."""
    from sprintconnect.jobs.context import TaskServices
    from sprintconnect.jobs.runner import JobRunner
    from sprintconnect.secret import build_secret_store

    settings = _settings(logs=True)

    async def run() -> None:
        runtime = build_runtime(settings)
        secrets = build_secret_store(runtime)
        runner = JobRunner(TaskServices(runtime=runtime, secrets=secrets))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runner.start()
        from sprintconnect.kit.heap import freeze_startup_heap

        freeze_startup_heap()
        _step(f"worker: running ({settings.worker_concurrency} concurrent jobs); Ctrl-C stops.")
        try:
            await stop.wait()
        finally:
            _step("worker: stopping (running jobs finish first)...")
            await runner.stop()
            await secrets.close()
            await runtime.db.dispose()
            _step("worker: stopped.")

    asyncio.run(run())


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    downgrade: Annotated[bool, typer.Option("--downgrade", help="Move down to REVISION.")] = False,
) -> None:
    """Create the application role and apply database migrations."""
    from sprintconnect.db import migrate as migrations

    settings = _settings()
    runtime = build_runtime(settings)
    where = "embedded PostgreSQL" if runtime.db.embedded else "configured PostgreSQL"
    _step(f"[1/2] Preparing database ({where}) and application role '{runtime.db.app_role}'")
    if downgrade:
        _step(f"[2/2] Downgrading to {revision}")
        migrations.downgrade(runtime.db, revision)
    else:
        _step(f"[2/2] Upgrading to {revision}")
        migrations.upgrade(runtime.db, revision)
    _step(f"Done: schema at revision {migrations.current(runtime.db)}")
    asyncio.run(runtime.db.dispose())


def _key_json(issued: Any) -> dict[str, Any]:
    record = issued.record
    return {
        "id": str(record.id),
        "name": record.name,
        "prefix": record.prefix,
        "scopes": record.scopes,
        "kind": record.kind,
        "created_by_user_id": str(record.created_by_user_id) if record.created_by_user_id else None,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "key": issued.plaintext,
    }


@admin_app.command()
def bootstrap(
    org: Annotated[str, typer.Option("--org", help="Name of the new organization.")],
    email: Annotated[str, typer.Option("--email", help="Email of its first admin.")],
) -> None:
    """Create an organization, its admin user and an admin API key; print them as JSON.

    The key is printed this once and cannot be recovered: store it now.
    """
    from sprintconnect.api_key.service import ApiKeyService
    from sprintconnect.kit.text import normalize_email
    from sprintconnect.organization.service import bootstrap as do_bootstrap

    settings = _settings()
    try:
        email = normalize_email(email)
    except ValueError as exc:
        typer.echo(f"error: --email: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.db.sessionmaker() as session, session.begin():
            keys = ApiKeyService(session, runtime.keyring, runtime.clock)
            result = await do_bootstrap(session, keys, org_name=org, email=email)
            return {
                "organization": {
                    "id": str(result.organization.id),
                    "name": result.organization.name,
                    "slug": result.organization.slug,
                },
                "user": {"id": str(result.user.id), "email": result.user.email, "role": "admin"},
                "api_key": _key_json(result.api_key),
            }

    typer.echo(json.dumps(_run_db(settings, work), indent=2))


@admin_app.command("create-api-key")
def create_api_key(
    org: Annotated[str, typer.Option("--org", help="Organization id, slug or name.")],
    name: Annotated[str, typer.Option("--name", help="A name to tell the key apart.")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="A scope; repeat for several (default: read).")
    ] = ["read"],  # noqa: B006 - typer reads the default, never mutates it
    expires_in_days: Annotated[
        int, typer.Option(min=1, max=3650, help="Lifetime in days, as the API's default.")
    ] = 90,
    never_expires: Annotated[
        bool, typer.Option("--never-expires", help="No expiry (overrides --expires-in-days).")
    ] = False,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            metavar="EMAIL",
            help="Make a user key owned by this member instead of a service key.",
        ),
    ] = None,
) -> None:
    """Create a service key (or, with --user, a member's key) and print it as JSON (shown once).

    A service key belongs to no member: it acts with its scopes alone, survives members
    leaving, and only the organization's admins (or the key itself) can revoke it. A member's
    key acts with the member's roles intersected with its scopes and is revoked when they leave.
    """
    from sprintconnect.api_key.service import ApiKeyService, member_by_email
    from sprintconnect.identity.principal import Actor
    from sprintconnect.identity.scopes import unknown_scopes
    from sprintconnect.kit.text import normalize_email
    from sprintconnect.organization.service import resolve_organization

    settings = _settings()
    unknown = unknown_scopes(scope)
    if unknown:
        typer.echo(f"error: unknown scopes: {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    if user is not None:
        try:
            user = normalize_email(user)
        except ValueError as exc:
            typer.echo(f"error: --user: {exc}", err=True)
            raise typer.Exit(2) from exc

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.db.sessionmaker() as session, session.begin():
            organization = await resolve_organization(session, org)
            owner = await member_by_email(session, organization.id, user) if user else None
            keys = ApiKeyService(session, runtime.keyring, runtime.clock)
            expires = (
                None if never_expires else runtime.clock.now() + timedelta(days=expires_in_days)
            )
            issued = await keys.issue(
                org_id=organization.id,
                name=name,
                description=description,
                scopes=scope,
                expires_at=expires,
                created_by_user_id=owner,
                actor=Actor("system", "cli"),
            )
            return {"organization_id": str(organization.id), "api_key": _key_json(issued)}

    typer.echo(json.dumps(_run_db(settings, work), indent=2))


@admin_app.command("set-super-admin")
def set_super_admin(
    email: Annotated[str, typer.Argument(help="Email of an existing user.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take super admin away instead of granting it.")
    ] = False,
) -> None:
    """Make a user a platform operator (super admin), or stop; audited in each of their orgs.

    Runs over the owner's database connection: the application itself cannot change this.
    """
    from sprintconnect.db.owner import owner_transaction
    from sprintconnect.identity.principal import Actor
    from sprintconnect.kit.text import normalize_email
    from sprintconnect.user.platform import set_super_admin as do_set

    settings = _settings()
    try:
        email = normalize_email(email)
    except ValueError as exc:
        typer.echo(f"error: EMAIL: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with owner_transaction(runtime.db) as session:
            change = await do_set(session, email, grant=not revoke, actor=Actor("system", "cli"))
        return {
            "user_id": str(change.user_id),
            "email": change.email,
            "is_super_admin": change.is_super_admin,
            "changed": change.changed,
            "organizations": [str(o) for o in change.organizations],
        }

    typer.echo(json.dumps(_run_db(settings, work), indent=2))


@admin_app.command("set-server-quota")
def set_server_quota(
    org: Annotated[str, typer.Option("--org", help="Organization id, slug or name.")],
    servers: Annotated[
        int | None, typer.Option(min=0, help="Most servers it may register; omit for default.")
    ] = None,
) -> None:
    """Set how many MCP servers an organization may register (a platform operator's call)."""
    from sprintconnect.identity.principal import Actor
    from sprintconnect.organization.service import resolve_organization, update_settings

    settings = _settings()

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.db.sessionmaker() as session, session.begin():
            organization = await resolve_organization(session, org)
            await update_settings(
                session, organization, {"server_quota": servers}, actor=Actor("system", "cli")
            )
            return {"organization_id": str(organization.id), "server_quota": servers}

    typer.echo(json.dumps(_run_db(settings, work), indent=2))


@admin_app.command("set-health-min-interval")
def set_health_min_interval(
    org: Annotated[str, typer.Option("--org", help="Organization id, slug or name.")],
    seconds: Annotated[
        int | None,
        typer.Option(
            min=1, max=86400, help="Shortest health check interval; omit for the default."
        ),
    ] = None,
) -> None:
    """Set the shortest health check interval an organization's servers may have (a quota)."""
    from sprintconnect.identity.principal import Actor
    from sprintconnect.organization.service import resolve_organization, update_settings

    settings = _settings()

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.db.sessionmaker() as session, session.begin():
            organization = await resolve_organization(session, org)
            await update_settings(
                session,
                organization,
                {"health_min_interval_seconds": seconds},
                actor=Actor("system", "cli"),
            )
            effective = seconds if seconds is not None else settings.health_min_interval_seconds
            return {
                "organization_id": str(organization.id),
                "health_min_interval_seconds": seconds,
                "effective_seconds": effective,
            }

    typer.echo(json.dumps(_run_db(settings, work), indent=2))


def main() -> None:
    app()
    sys.exit(0)
