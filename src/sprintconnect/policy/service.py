"""Publishing, rolling back and trying organization policies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.repository import ApiKeyRepository
from sprintconnect.authz.access import effective_permissions, role_permissions, time_context
from sprintconnect.authz.cedar import PolicyInvalid, check_org_policies_safely
from sprintconnect.authz.cedar_schema import BASE_POLICIES, SCHEMA
from sprintconnect.authz.decision import DecisionRequest, Resource, Subject
from sprintconnect.authz.permissions import ALL_PERMISSIONS
from sprintconnect.authz.repository import AccessFacts, AccessRepository
from sprintconnect.authz.service import Authorizer
from sprintconnect.errors import FieldError, NotFound, ValidationFailed
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.pagination import cut, encode_key, version_cursor
from sprintconnect.models import PolicyVersion
from sprintconnect.policy.repository import PolicyRepository
from sprintconnect.policy.schemas import (
    DryRun,
    DryRunResult,
    EffectivePolicy,
    PolicyVersionOut,
)


class PolicyRejected(ValidationFailed):
    slug = "policy-invalid"
    title = "The policy text is not valid"

    def __init__(self, problems: list[str], *, field: str = "text") -> None:
        super().__init__(
            f"{len(problems)} problem(s): {problems[0]}" + (" …" if len(problems) > 1 else ""),
            errors=[FieldError(loc=["body", field], msg=p, type=self.slug) for p in problems],
            problems=problems,
        )


class PolicyVersionNotFound(NotFound):
    slug = "policy-version-not-found"
    title = "Policy version not found"


class DryRunSubjectNotFound(NotFound):
    slug = "subject-not-found"
    title = "The subject to decide for was not found"


async def validate(text: str, *, field: str = "text") -> None:
    """Check policy text on the parser thread: a text that crashes it cannot end the process.

    ``field`` names the body field the text came from, for the problem's ``errors``.
    """
    try:
        await check_org_policies_safely(text)
    except PolicyInvalid as exc:
        raise PolicyRejected(exc.problems, field=field) from exc


class PolicyService:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.versions = PolicyRepository(session)

    async def effective(self) -> EffectivePolicy:
        current = await self.versions.latest(self.org_id)
        return EffectivePolicy(
            version=current.version if current else 0,
            org_policies=current.text if current else "",
            base_policies=BASE_POLICIES.strip(),
            schema_text=SCHEMA.strip(),
            current=PolicyVersionOut.model_validate(current) if current else None,
        )

    async def page(
        self, *, cursor: str | None, limit: int
    ) -> tuple[list[PolicyVersionOut], str | None]:
        """Newest first; the cursor holds the last version shown."""
        before = version_cursor(cursor) if cursor else None
        rows = await self.versions.page(self.org_id, before=before, limit=limit + 1)
        page, next_cursor = cut(rows, limit, lambda row: encode_key(row.version))
        return [PolicyVersionOut.model_validate(r) for r in page], next_cursor

    async def get(self, version: int) -> PolicyVersionOut:
        row = await self.versions.get(self.org_id, version)
        if row is None:
            raise PolicyVersionNotFound(f"This organization has no policy version {version}.")
        return PolicyVersionOut.model_validate(row)

    async def publish(
        self, text: str, comment: str | None, *, rolled_back_from: int | None = None
    ) -> PolicyVersionOut:
        """Validate, then store as the next version; the previous version stays in history."""
        # A rollback's text was valid once; if it no longer is, the version asked for is at fault.
        await validate(text, field="version" if rolled_back_from else "text")
        await self.versions.lock(self.org_id)
        row = await self.versions.add(
            PolicyVersion(
                org_id=self.org_id,
                version=await self.versions.next_version(self.org_id),
                text=text,
                comment=comment,
                created_by_user_id=self.principal.user_id,
                rolled_back_from=rolled_back_from,
            )
        )
        tag = (
            audit.AuditTag.POLICY_ROLLED_BACK
            if rolled_back_from
            else audit.AuditTag.POLICY_PUBLISHED
        )
        await audit.record(
            self.session,
            tag,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("policy_version", str(row.version)),
            details={
                "version": row.version,
                "comment": comment,
                "rolled_back_from": rolled_back_from,
                "bytes": len(text.encode()),
            },
        )
        return PolicyVersionOut.model_validate(row)

    async def rollback(self, version: int, comment: str | None) -> PolicyVersionOut:
        old = await self.get(version)
        return await self.publish(
            old.text, comment or f"Rollback to version {version}", rolled_back_from=version
        )

    async def dry_run(self, body: DryRun, authorizer: Authorizer, now: datetime) -> DryRunResult:
        if body.policy_text is not None:
            await validate(body.policy_text, field="policy_text")
        facts_repo = AccessRepository(self.session)
        subject, facts = await self._subject(body, facts_repo)
        text = body.policy_text
        if text is None:
            text = await authorizer.policy_text(self.session, self.org_id, facts.policy_version)
        try:
            context: dict[str, int | str] = time_context(body.at or now, facts.time_zone)
        except (ValueError, KeyError):  # unknown zone: the decision below then denies
            context = {}
        decision = await authorizer.decide(
            DecisionRequest(
                org_id=str(self.org_id),
                policy_version=facts.policy_version,
                subject=subject,
                action=body.action,
                resource=Resource(body.resource.type, body.resource.id, body.resource.attrs),
                context=dict(context),
            ),
            text,
        )
        return DryRunResult(
            allowed=decision.allowed,
            decision_id=decision.decision_id,
            reasons=list(decision.reasons),
            obligations=list(decision.obligations),
            errors=list(decision.errors),
            policy_version=None if body.policy_text is not None else facts.policy_version,
            subject_permissions=sorted(subject.permissions),
            context=context,
        )

    async def _subject(self, body: DryRun, repo: AccessRepository) -> tuple[Subject, AccessFacts]:
        if body.api_key_id is not None:
            key = await ApiKeyRepository(self.session).get(self.org_id, body.api_key_id)
            if key is None:
                raise DryRunSubjectNotFound(f"No API key has the id {body.api_key_id} here.")
            facts = await repo.facts(self.org_id, key.created_by_user_id)
            perms = effective_permissions(
                facts, frozenset(key.scopes), has_user=key.created_by_user_id is not None
            )
            subject_id = str(key.created_by_user_id or key.id)
            kind = "user" if key.created_by_user_id else "service"
        else:
            user_id: UUID | None = body.user_id or self.principal.user_id
            facts = await repo.facts(self.org_id, user_id)
            if body.user_id is not None and not facts.member:
                raise DryRunSubjectNotFound(f"No member has the user id {body.user_id} here.")
            perms = role_permissions(facts) if user_id else self.principal.permissions
            subject_id, kind = str(user_id or self.principal.api_key_id), "user"
        roles = facts.expanded_roles if facts.member else frozenset()
        return Subject(subject_id, perms & ALL_PERMISSIONS, roles, kind), facts
