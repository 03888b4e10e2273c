"""A server's health settings: the organization's limits, and applying a (partial) change."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sprintconnect.config import Settings
from sprintconnect.errors import FieldError, ValidationFailed
from sprintconnect.health.schemas import HealthSettings
from sprintconnect.models import Organization, ServerHealth


class IntervalBelowMinimum(ValidationFailed):
    slug = "health-interval-below-minimum"
    title = "The check interval is below the organization's minimum"


@dataclass(frozen=True)
class Thresholds:
    """When a failing server escalates to degraded."""

    failures: int
    seconds: int


def min_interval(org: Organization, settings: Settings) -> int:
    """The shortest interval the organization may set (its quota, else the platform's)."""
    if org.health_min_interval_seconds is not None:
        return org.health_min_interval_seconds
    return settings.health_min_interval_seconds


def thresholds(org: Organization, row: ServerHealth) -> Thresholds:
    """The server's overrides, else the organization's thresholds."""
    return Thresholds(
        failures=row.failure_threshold
        if row.failure_threshold is not None
        else org.health_failure_threshold,
        seconds=row.degraded_after_seconds
        if row.degraded_after_seconds is not None
        else org.health_degraded_after_seconds,
    )


def requested_changes(
    block: HealthSettings | None, alias: int | None, *, loc: tuple[str, ...] = ("body",)
) -> dict[str, Any]:
    """The fields a request sets, with the deprecated ``health_check_interval_seconds`` folded
    into ``interval_seconds`` (the block wins when both are given and differ: a 422)."""
    changes: dict[str, Any] = block.model_dump(exclude_unset=True) if block else {}
    # enabled, check_type and interval cannot be unset; the overrides may be (back to the org).
    for field in ("enabled", "check_type", "interval_seconds"):
        if field in changes and changes[field] is None:
            changes.pop(field)
    if alias is not None:
        given = changes.get("interval_seconds")
        if given is not None and given != alias:
            raise ValidationFailed(
                "health.interval_seconds and the deprecated health_check_interval_seconds "
                "disagree; send only health.interval_seconds.",
                loc=[*loc, "health_check_interval_seconds"],
            )
        changes["interval_seconds"] = alias
    return changes


def check_minimum(
    changes: dict[str, Any],
    org: Organization,
    settings: Settings,
    *,
    loc: tuple[str, ...] = ("body", "health", "interval_seconds"),
) -> None:
    interval = changes.get("interval_seconds")
    minimum = min_interval(org, settings)
    if interval is not None and interval < minimum:
        message = (
            f"The check interval must be at least {minimum} seconds "
            f"(the organization's minimum); {interval} was given."
        )
        raise IntervalBelowMinimum(
            message,
            errors=[FieldError(loc=list(loc), msg=message, type=IntervalBelowMinimum.slug)],
            minimum=minimum,
        )


def first_due(now: datetime, interval_seconds: int) -> datetime:
    """When a newly scheduled server is first due: a random point of its first interval, so
    that servers registered (or re-scheduled) together do not all fall due together."""
    return now + timedelta(seconds=random.random() * interval_seconds)  # noqa: S311


def apply(row: ServerHealth, changes: dict[str, Any], now: datetime) -> list[str]:
    """Set the changed fields on the row; the names of the fields that changed.

    A new interval, or enabling a paused server, schedules its next check afresh within one
    interval from now; pausing releases nothing (a check in flight finishes and is recorded).
    """
    changed = [field for field, value in changes.items() if getattr(row, field) != value]
    for field in changed:
        setattr(row, field, changes[field])
    if "interval_seconds" in changed or ("enabled" in changed and row.enabled):
        row.next_check_at = first_due(now, row.interval_seconds)
    if changed:
        row.updated_at = now
    return sorted(changed)
