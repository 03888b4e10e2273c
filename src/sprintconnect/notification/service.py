"""Members' notification preferences, the organization's escalation policy, and the list of
deliveries: validated, stored (secrets in the secret store), audited. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.permissions import BUILT_IN_ROLES
from sprintconnect.config import Settings
from sprintconnect.egress import (
    EgressDenied,
    EgressPolicy,
    check_url,
    org_policy,
)
from sprintconnect.errors import FieldError, PermissionDenied, ValidationFailed
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.pagination import decode_cursor, encode_cursor
from sprintconnect.kit.signing import secret_key
from sprintconnect.models import EscalationPolicy, NotificationPreference
from sprintconnect.models.notification import HEALTH_TOPICS
from sprintconnect.notification import schemas
from sprintconnect.notification.repository import NotificationRepository
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.role.repository import RoleRepository
from sprintconnect.secret import SecretStore

# With no policy set: admins hear of both (story 2.3 wants the people responsible told when a
# server turns unhealthy, and a new organization has nobody else to tell), reminded hourly
# while degraded, and a flapping server says the same thing to one member at most every 30 min.
T = TypeVar("T")

DEFAULT_ROLES = ("admin",)
DEFAULT_REPEAT_MINUTES = 60
DEFAULT_COOLDOWN_MINUTES = 30


class MemberKeyRequired(PermissionDenied):
    slug = "member-key-required"
    title = "This needs a member's key"


def slack_path(user_id: UUID) -> str:
    return f"notifications/{user_id}/slack"


def webhook_path(user_id: UUID) -> str:
    return f"notifications/{user_id}/webhook"


async def forget_member(secrets: SecretStore, org_id: UUID, user_id: UUID) -> None:
    """Remove a departing member's Slack URL and webhook secret from the secret store."""
    for path in (slack_path(user_id), webhook_path(user_id)):
        await secrets.delete(org_id, path)


@dataclass(frozen=True)
class Targets:
    user_ids: tuple[UUID, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class PolicyView:
    """The policy in force: the organization's, or the default."""

    unhealthy: Targets
    degraded: Targets
    repeat_minutes: int
    cooldown_minutes: int
    row: EscalationPolicy | None = None


def policy_view(row: EscalationPolicy | None) -> PolicyView:
    if row is None:
        default = Targets((), DEFAULT_ROLES)
        return PolicyView(default, default, DEFAULT_REPEAT_MINUTES, DEFAULT_COOLDOWN_MINUTES)
    return PolicyView(
        Targets(tuple(row.unhealthy_user_ids), tuple(row.unhealthy_roles)),
        Targets(tuple(row.degraded_user_ids), tuple(row.degraded_roles)),
        row.repeat_minutes,
        row.cooldown_minutes,
        row,
    )


def default_preferences(org_id: UUID, user_id: UUID) -> NotificationPreference:
    """What a member who never saved preferences gets: email to the account, every event."""
    return NotificationPreference(
        org_id=org_id,
        user_id=user_id,
        email_enabled=True,
        email_address=None,
        slack_enabled=False,
        webhook_enabled=False,
        events=list(HEALTH_TOPICS),
    )


def check_target(url: str, policy: EgressPolicy, settings: Settings, loc: list[str | int]) -> None:
    """A Slack or webhook URL: https (http only where loopback is allowed, i.e. development and
    tests), and acceptable to the egress guard by its text (no connection is made)."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ValidationFailed("The URL cannot be read.", loc=loc) from None
    if scheme != "https" and not (scheme == "http" and settings.egress_allow_loopback):
        raise ValidationFailed("The URL must use https.", loc=loc)
    try:
        check_url(url, policy)
    except EgressDenied as exc:
        exc.errors = [FieldError(loc=loc, msg=exc.detail or exc.title, type=exc.slug)]
        raise


class NotificationService:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        settings: Settings,
        clock: Clock,
        secrets: SecretStore,
    ) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.settings = settings
        self.clock = clock
        self.secrets = secrets
        self.repo = NotificationRepository(session)

    def _user(self) -> UUID:
        if self.principal.user_id is None:
            raise MemberKeyRequired(
                "Notification preferences belong to a member; this is a service key. Use a "
                "key that a member created."
            )
        return self.principal.user_id

    async def _policy(self) -> EgressPolicy:
        org = await OrganizationRepository(self.session).get(self.org_id)
        assert org is not None
        return org_policy(self.settings, org.egress_allowlist, org_id=self.org_id)

    # --- preferences -----------------------------------------------------------------------

    async def preferences(self) -> schemas.NotificationPreferences:
        user_id = self._user()
        row = await self.repo.preferences(self.org_id, user_id)
        return await self._shown(row or default_preferences(self.org_id, user_id), saved=row)

    async def _shown(
        self, row: NotificationPreference, *, saved: NotificationPreference | None
    ) -> schemas.NotificationPreferences:
        account = (await self.repo.account_emails(self.org_id, [row.user_id])).get(row.user_id)
        return schemas.NotificationPreferences(
            email=schemas.EmailChannel(
                enabled=row.email_enabled,
                address=row.email_address or account,
                uses_account_email=row.email_address is None,
            ),
            slack=schemas.SlackChannel(
                enabled=row.slack_enabled,
                configured=row.slack_updated_at is not None,
                updated_at=row.slack_updated_at,
            ),
            webhook=schemas.WebhookChannel(
                enabled=row.webhook_enabled,
                url=row.webhook_url,
                secret_configured=row.webhook_secret_updated_at is not None,
                secret_updated_at=row.webhook_secret_updated_at,
            ),
            events=sorted(row.events),
            updated_at=saved.updated_at if saved is not None else None,
        )

    async def update_preferences(
        self, body: schemas.NotificationPreferencesUpdate
    ) -> schemas.NotificationPreferences:
        """Validate everything, then write secrets, then the row (as server credentials do)."""
        user_id = self._user()
        now = self.clock.now()
        row = await self.repo.preferences(self.org_id, user_id)
        created = row is None
        if row is None:
            row = default_preferences(self.org_id, user_id)
        slack_sent = "webhook_url" in body.slack.model_fields_set
        secret_sent = "secret" in body.webhook.model_fields_set
        slack_url = body.slack.webhook_url.get_secret_value() if body.slack.webhook_url else None
        secret = body.webhook.secret.get_secret_value() if body.webhook.secret else None
        policy = await self._policy()
        if slack_url is not None:
            check_target(slack_url, policy, self.settings, ["body", "slack", "webhook_url"])
        if body.webhook.url is not None:
            check_target(body.webhook.url, policy, self.settings, ["body", "webhook", "url"])
        if secret is not None:
            try:
                secret_key(secret)
            except ValueError as exc:
                raise ValidationFailed(
                    f"webhook.secret {exc}", loc=["body", "webhook", "secret"]
                ) from None
        slack_configured = slack_url is not None or (
            not slack_sent and row.slack_updated_at is not None
        )
        if body.slack.enabled and not slack_configured:
            raise ValidationFailed(
                "Slack needs an incoming webhook URL to be enabled.",
                loc=["body", "slack", "webhook_url"],
            )
        if body.webhook.enabled and body.webhook.url is None:
            raise ValidationFailed(
                "The webhook channel needs a URL to be enabled.", loc=["body", "webhook", "url"]
            )

        if slack_sent:
            if slack_url is not None:
                await self.secrets.put(self.org_id, slack_path(user_id), {"url": slack_url})
                row.slack_updated_at = now
            else:
                await self.secrets.delete(self.org_id, slack_path(user_id))
                row.slack_updated_at = None
        if secret_sent:
            if secret is not None:
                await self.secrets.put(self.org_id, webhook_path(user_id), {"secret": secret})
                row.webhook_secret_updated_at = now
            else:
                await self.secrets.delete(self.org_id, webhook_path(user_id))
                row.webhook_secret_updated_at = None
        row.email_enabled = body.email.enabled
        row.email_address = body.email.address
        row.slack_enabled = body.slack.enabled
        row.webhook_enabled = body.webhook.enabled
        row.webhook_url = body.webhook.url
        row.events = list(body.events)
        row.updated_at = now
        if created:
            await self.repo.add_preferences(row)
        await self.session.flush()
        await audit.record(
            self.session,
            audit.AuditTag.NOTIFICATION_PREFERENCES_UPDATED,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("member", user_id),
            details={
                "email_enabled": row.email_enabled,
                "slack_enabled": row.slack_enabled,
                "webhook_enabled": row.webhook_enabled,
                "events": list(row.events),
                # Whether secrets changed, never what they are.
                "slack_webhook_url": _change(slack_sent, slack_url),
                "webhook_secret": _change(secret_sent, secret),
            },
        )
        return await self._shown(row, saved=row)

    # --- escalation policy -----------------------------------------------------------------

    async def escalation(self) -> schemas.EscalationPolicy:
        return _policy_out(policy_view(await self.repo.policy(self.org_id)))

    async def update_escalation(
        self, body: schemas.EscalationPolicyUpdate
    ) -> schemas.EscalationPolicy:
        errors: list[FieldError] = []
        known_roles = set(BUILT_IN_ROLES) | {
            r.name for r in await RoleRepository(self.session).custom(self.org_id)
        }
        for level in ("unhealthy", "degraded"):
            target: schemas.EscalationTarget = getattr(body, level)
            members = await self.repo.members(self.org_id, target.user_ids)
            for i, user_id in enumerate(target.user_ids):
                if user_id not in members:
                    errors.append(
                        FieldError(
                            loc=["body", level, "user_ids", i],
                            msg=f"{user_id} is not a member of this organization",
                            type="unknown_member",
                        )
                    )
            for i, role in enumerate(target.roles):
                if role not in known_roles:
                    errors.append(
                        FieldError(
                            loc=["body", level, "roles", i],
                            msg=f"no role named '{role}' exists in this organization",
                            type="unknown_role",
                        )
                    )
        if errors:
            raise ValidationFailed(f"{len(errors)} unknown recipient(s).", errors=errors)
        row = await self.repo.policy(self.org_id)
        created = row is None
        if row is None:
            row = EscalationPolicy(org_id=self.org_id)
        row.unhealthy_user_ids = _unique(body.unhealthy.user_ids)
        row.unhealthy_roles = _unique(body.unhealthy.roles)
        row.degraded_user_ids = _unique(body.degraded.user_ids)
        row.degraded_roles = _unique(body.degraded.roles)
        row.repeat_minutes = body.repeat_minutes
        row.cooldown_minutes = body.cooldown_minutes
        row.updated_at = self.clock.now()
        row.updated_by_user_id = self.principal.user_id
        if created:
            await self.repo.add_policy(row)
        await self.session.flush()
        shown = _policy_out(policy_view(row))
        await audit.record(
            self.session,
            audit.AuditTag.ESCALATION_POLICY_UPDATED,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("escalation_policy", self.org_id),
            details=shown.model_dump(
                mode="json", include={"unhealthy", "degraded", "repeat_minutes", "cooldown_minutes"}
            ),
        )
        return shown

    # --- deliveries ------------------------------------------------------------------------

    async def deliveries(
        self, *, status: str | None, cursor: str | None, limit: int
    ) -> tuple[list[schemas.Delivery], str | None]:
        after = decode_cursor(cursor) if cursor else None
        rows = await self.repo.page_deliveries(
            self.org_id, status=status, after=after, limit=limit + 1
        )
        page = list(rows[:limit])
        next_cursor = (
            encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit and page else None
        )
        return [schemas.Delivery.model_validate(r) for r in page], next_cursor


def _change(sent: bool, value: str | None) -> str:
    if not sent:
        return "kept"
    return "set" if value is not None else "removed"


def _unique(values: list[T]) -> list[T]:
    return list(dict.fromkeys(values))


def _policy_out(view: PolicyView) -> schemas.EscalationPolicy:
    row = view.row
    return schemas.EscalationPolicy(
        unhealthy=schemas.EscalationTarget(
            user_ids=list(view.unhealthy.user_ids), roles=list(view.unhealthy.roles)
        ),
        degraded=schemas.EscalationTarget(
            user_ids=list(view.degraded.user_ids), roles=list(view.degraded.roles)
        ),
        repeat_minutes=view.repeat_minutes,
        cooldown_minutes=view.cooldown_minutes,
        is_default=row is None,
        updated_at=row.updated_at if row is not None else None,
        updated_by_user_id=row.updated_by_user_id if row is not None else None,
    )
