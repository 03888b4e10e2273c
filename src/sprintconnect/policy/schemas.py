"""Request and response models for organization policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from sprintconnect.kit.input import UtcDatetime
from sprintconnect.kit.pagination import INT4_MAX

EXAMPLE_POLICY = """@id("office-hours")
forbid (principal, action == Action::"servers:write", resource)
unless { context.minute_of_day >= 540 && context.minute_of_day < 1080 };"""


class PolicyVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    text: str
    comment: str | None
    created_at: datetime
    created_by_user_id: UUID | None
    rolled_back_from: int | None


class EffectivePolicy(BaseModel):
    """What the PDP evaluates for this organization: the base set plus the current version."""

    version: int = Field(description="0 when the organization has published no policy.")
    org_policies: str
    base_policies: str
    schema_text: str = Field(description="The Cedar schema every policy is validated against.")
    current: PolicyVersionOut | None


class PolicyPublish(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": EXAMPLE_POLICY, "comment": "Office hours"}]},
    )

    text: str = Field(max_length=65536, description="Cedar policies (permit and forbid).")
    comment: str | None = Field(default=None, max_length=1000)


class PolicyRollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=1, le=INT4_MAX, description="The version whose text becomes current again."
    )
    comment: str | None = Field(default=None, max_length=1000)


class DryRunResource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["Resource", "Server", "Capability"] = "Resource"
    id: str = Field(min_length=1, max_length=200)
    attrs: dict[str, Any] = Field(default_factory=dict)


class DryRun(BaseModel):
    """Ask what a subject may do, and why, without doing it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "servers:read",
                    "resource": {
                        "type": "Server",
                        "id": "payments",
                        "attrs": {"name": "payments", "environment": "production", "tags": []},
                    },
                }
            ]
        },
    )

    action: str = Field(max_length=64)
    resource: DryRunResource
    user_id: UUID | None = Field(default=None, description="Decide for this member.")
    api_key_id: UUID | None = Field(default=None, description="Decide for this API key.")
    at: UtcDatetime | None = Field(
        default=None, description="Decide as of this time (with a time zone)."
    )
    policy_text: str | None = Field(
        default=None, max_length=65536, description="Try a draft instead of the current version."
    )


class DryRunResult(BaseModel):
    allowed: bool
    decision_id: str
    reasons: list[str]
    obligations: list[str]
    errors: list[str]
    policy_version: int | None = Field(description="null when a draft was evaluated.")
    subject_permissions: list[str]
    context: dict[str, Any]
