"""Request and response models for roles."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sprintconnect.authz.permissions import unknown_permissions

ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{1,62}$"


class RoleOut(BaseModel):
    """A role: its own permissions, the roles it extends, and everything it grants."""

    name: str
    description: str | None
    built_in: bool
    permissions: list[str]
    extends: list[str]
    effective_permissions: list[str]


def _known(value: list[str]) -> list[str]:
    unknown = unknown_permissions(value)
    if unknown:
        raise ValueError(f"unknown permissions: {', '.join(unknown)}")
    return sorted(set(value))


def _names(value: list[str]) -> list[str]:
    bad = [v for v in value if not re.match(ROLE_NAME_PATTERN, v)]
    if bad:
        raise ValueError(f"not role names: {', '.join(bad)}")
    return sorted(set(value))


class RoleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "release-manager",
                    "description": "Engineers who may also read the audit log",
                    "permissions": ["audit:read"],
                    "extends": ["engineer"],
                }
            ]
        },
    )

    name: str = Field(pattern=ROLE_NAME_PATTERN)
    description: str | None = Field(default=None, max_length=1000)
    permissions: list[str] = Field(default_factory=list, max_length=100)
    extends: list[str] = Field(default_factory=list, max_length=20)

    _check_permissions = field_validator("permissions")(_known)
    _check_extends = field_validator("extends")(_names)


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=1000)
    permissions: list[str] | None = Field(default=None, max_length=100)
    extends: list[str] | None = Field(default=None, max_length=20)

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known(value)

    @field_validator("extends")
    @classmethod
    def _extends(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _names(value)
