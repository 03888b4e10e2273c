"""The development identity provider: ``oidc_provider_mock`` on 127.0.0.1, for ``make run``.

When ``settings.dev_idp_enabled`` (development only; production refuses the setting), the
app starts the provider in a thread on ``settings.dev_idp_port`` (``start_dev_idp``). An
organization with no provider of its own is given this one at its first sign-in
(``ensure_dev_provider``): its members are registered with the provider so that the sign-in
page lists them (the bootstrap admin included), beside two example people who are not
members yet and are provisioned at sign-in with roles from the example group mapping:

- ``alice@example.com`` (group ``engineers`` -> role ``engineer``)
- ``bob@example.com`` (group ``viewers`` -> role ``viewer``)

Any other subject typed on the provider's page signs in with that text as its email.
The egress guard lets exactly this issuer reach exactly 127.0.0.1 (``provider.policy_for``).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.config import Settings
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.provider import SECRET_PATH, dev_idp_issuer
from sprintconnect.identity.session.repository import ProviderRepository
from sprintconnect.models.sign_in import IdentityProvider
from sprintconnect.user.repository import MembershipRepository

if TYPE_CHECKING:  # werkzeug comes with the development extras only
    import werkzeug.serving

log = structlog.get_logger(__name__)

DEV_CLIENT_ID = "sprintconnect-dev"
# The development provider accepts any secret; one is sent because it wants client auth.
DEV_CLIENT_SECRET = "sprintconnect-dev-secret"  # noqa: S105 - development only
EXAMPLE_USERS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "alice@example.com",
        {"email": "alice@example.com", "name": "Alice Example", "groups": ["engineers"]},
    ),
    ("bob@example.com", {"email": "bob@example.com", "name": "Bob Example", "groups": ["viewers"]}),
)
EXAMPLE_GROUP_ROLES = {"engineers": ["engineer"], "viewers": ["viewer"]}


@dataclass
class DevIdentityProvider:
    issuer: str
    server: werkzeug.serving.BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


def start_dev_idp(settings: Settings) -> DevIdentityProvider | None:
    """Start the development provider when the settings ask for it; None otherwise.

    A port already in use (another process of this deployment runs it) is logged and left
    to that process.
    """
    if not settings.dev_idp_enabled or settings.env == "production":
        return None
    try:
        # The provider imports a module its own Authlib deprecates: that is not ours to report
        # on every start.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import werkzeug.serving
            from oidc_provider_mock import User  # type: ignore[import-untyped]
            from oidc_provider_mock import app as provider_app
    except ImportError:  # a deployment without the development extras
        log.warning("dev_idp.not_installed", hint="pip install oidc-provider-mock")
        return None

    users = [User(sub=sub, claims=claims) for sub, claims in EXAMPLE_USERS]
    try:
        server = werkzeug.serving.make_server(
            "127.0.0.1",
            settings.dev_idp_port,
            provider_app(require_nonce=True, user_claims=users),
            threaded=True,
        )
    except OSError as exc:
        log.warning("dev_idp.not_started", port=settings.dev_idp_port, error=str(exc))
        return None
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    )
    thread.start()
    issuer = f"http://127.0.0.1:{server.server_port}"
    # ``serve`` names it in its "listening" line too.
    log.info("dev_idp.started", issuer=issuer, hint="development only; never in production")
    return DevIdentityProvider(issuer, server, thread)


async def _register_members(issuer: str, session: AsyncSession, org_id: UUID) -> None:
    """List the organization's members on the provider's sign-in page (best effort)."""
    members = await MembershipRepository(session).page(org_id, after=None, limit=50)
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        for membership, user in members:
            claims: dict[str, Any] = {"email": user.email}
            if membership.display_name:
                claims["name"] = membership.display_name
            try:
                await client.put(f"{issuer}/users/{user.email}", json=claims)
            except httpx.HTTPError as exc:
                log.warning("dev_idp.register_failed", error=type(exc).__name__)
                return


async def ensure_dev_provider(
    state: Any, settings: Settings, session: AsyncSession, org_id: UUID
) -> bool:
    """Give the (bound) organization the development provider when it has none; whether it
    did. Only while the development provider runs in this process."""
    running: DevIdentityProvider | None = getattr(state, "dev_idp", None)
    if running is None or not settings.dev_idp_enabled:
        return False
    if running.issuer != dev_idp_issuer(settings):
        return False  # started on another port than configured: the egress exception is exact
    providers = ProviderRepository(session)
    if await providers.get(org_id) is not None:
        return False
    await state.secret_store.put(org_id, SECRET_PATH, {"client_secret": DEV_CLIENT_SECRET})
    provider = await providers.add(
        IdentityProvider(
            org_id=org_id,
            issuer=running.issuer,
            client_id=DEV_CLIENT_ID,
            client_secret_ref=SECRET_PATH,
            scopes=["openid", "email", "profile"],
            allowed_email_domains=[],
            claim_name="name",
            claim_email="email",
            claim_groups="groups",
            group_roles=EXAMPLE_GROUP_ROLES,
            access_token_audience=None,
            enabled=True,
        )
    )
    await audit.record(
        session,
        audit.AuditTag.IDENTITY_PROVIDER_UPDATED,
        org_id=org_id,
        actor=Actor("system"),
        target=audit.Target("identity_provider", provider.id),
        details={"issuer": running.issuer, "development_provider": True},
    )
    await _register_members(running.issuer, session, org_id)
    return True
