"""HTTP routes for organization policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.identity.auth import require
from sprintconnect.identity.deps import PoliciesPublish, PoliciesRead
from sprintconnect.identity.session.errors import StepUpRequired
from sprintconnect.kit.pagination import (
    DEFAULT_LIMIT,
    INT4_MAX,
    CursorParam,
    LimitParam,
    Page,
)
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.policy.schemas import (
    DryRun,
    DryRunResult,
    EffectivePolicy,
    PolicyPublish,
    PolicyRollback,
    PolicyVersionOut,
)
from sprintconnect.policy.service import (
    DryRunSubjectNotFound,
    PolicyRejected,
    PolicyService,
    PolicyVersionNotFound,
)

router = APIRouter(prefix="/api/v1/policies", tags=["Policies"], responses=AUTHENTICATED)


@router.get("", summary="The effective policy set: base rules, current version, schema")
async def effective_policy(principal: PoliciesRead, session: DbSession) -> EffectivePolicy:
    return await PolicyService(session, principal).effective()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a new policy version",
    description="The text is parsed and validated against the schema before it is stored; "
    "a rejected text leaves the current version in force. Takes effect on the next request.",
    responses=problem_responses(PolicyRejected, StepUpRequired),
)
async def publish_policy(
    body: PolicyPublish, principal: PoliciesPublish, session: DbSession
) -> PolicyVersionOut:
    return await PolicyService(session, principal).publish(body.text, body.comment)


@router.get(
    "/versions",
    summary="Policy version history, newest first",
    description="Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(InvalidCursor),
)
async def list_versions(
    principal: PoliciesRead,
    session: DbSession,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[PolicyVersionOut]:
    items, next_cursor = await PolicyService(session, principal).page(cursor=cursor, limit=limit)
    return Page[PolicyVersionOut](items=items, next_cursor=next_cursor)


@router.get(
    "/versions/{version}",
    summary="One policy version",
    responses=problem_responses(PolicyVersionNotFound),
)
async def get_version(
    version: Annotated[int, Path(ge=1, le=INT4_MAX)],
    principal: PoliciesRead,
    session: DbSession,
) -> PolicyVersionOut:
    return await PolicyService(session, principal).get(version)


@router.post(
    "/rollback",
    status_code=status.HTTP_201_CREATED,
    summary="Roll back to an earlier version",
    description="Publishes the earlier version's text as a new version, so history stays whole.",
    responses=problem_responses(PolicyVersionNotFound, PolicyRejected, StepUpRequired),
)
async def rollback_policy(
    body: PolicyRollback, principal: PoliciesPublish, session: DbSession
) -> PolicyVersionOut:
    return await PolicyService(session, principal).rollback(body.version, body.comment)


@router.post(
    "/dry-run",
    summary="What may a subject do here, and why",
    description="Evaluates one decision for a member, an API key, or yourself, optionally at "
    "another time or against a draft policy text. Nothing is changed. A draft "
    "(`policy_text`) needs `policies:write`, as publishing it would.",
    responses=problem_responses(DryRunSubjectNotFound, PolicyRejected),
)
async def dry_run(
    body: DryRun, request: Request, principal: PoliciesRead, session: DbSession, runtime: RuntimeDep
) -> DryRunResult:
    if body.policy_text is not None:
        # Trying a draft parses untrusted policy text: as much as publishing, so the same
        # permission.
        await require(request, session, principal, "policies:write")
    service = PolicyService(session, principal)
    return await service.dry_run(body, request.app.state.authorizer, runtime.clock.now())
