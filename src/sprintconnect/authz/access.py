"""Turning roles, scopes and the clock into a decision request's subject and context."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sprintconnect.authz.permissions import ALL_PERMISSIONS, BUILT_IN_ROLES, expand_scopes
from sprintconnect.authz.repository import AccessFacts


def role_permissions(facts: AccessFacts) -> frozenset[str]:
    """The union of every role a member holds, inherited roles included."""
    if not facts.member:
        return frozenset()
    if facts.super_admin:
        return ALL_PERMISSIONS
    built_in = set().union(*(BUILT_IN_ROLES.get(r, frozenset()) for r in facts.expanded_roles))
    return frozenset(built_in | facts.custom_permissions) & ALL_PERMISSIONS


def effective_permissions(
    facts: AccessFacts, scopes: frozenset[str], *, has_user: bool
) -> frozenset[str]:
    """A key acts with its scopes intersected with its creator's permissions, read now.

    Keys that no user created (issued by an operator from the CLI) are bounded by their
    scopes alone.
    """
    allowed = expand_scopes(scopes)
    return allowed & role_permissions(facts) if has_user else allowed


def time_context(now: datetime, time_zone: str) -> dict[str, int | str]:
    """Minute of day and ISO weekday in the organization's time zone, for time windows.

    An unknown zone raises (and so denies): guessing one could open a window that is shut.
    """
    local = now.astimezone(ZoneInfo(time_zone))
    return {
        "minute_of_day": local.hour * 60 + local.minute,
        "day_of_week": local.isoweekday(),
        "time_zone": time_zone,
    }
