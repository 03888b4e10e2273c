"""The public event types, how audit tags map onto them, and subscription patterns.

A pattern is an event type, ``*`` (everything), or ``<prefix>.*`` (every type under the
prefix, at any depth: ``server.*`` covers ``server.health.unhealthy``). Patterns are checked
against this catalog when an endpoint is saved, so a typo is a 422 rather than silence.
"""

from __future__ import annotations

from collections.abc import Iterable

# Event types from the outbox (emitted by their domains) rather than from audit entries.
HEALTH_TYPES = ("server.health.unhealthy", "server.health.degraded", "server.health.recovered")
OUTBOX_TYPES = (*HEALTH_TYPES, "server.capabilities.changed", "audit.checkpoint")

# Audit tags that are state changes worth telling the outside world about. Authentication
# failures, health checks run and members' own preferences are audited but not published:
# the first two are noise anyone could cause, the last is one member's business.
AUDIT_TYPES: dict[str, str] = {
    "org:organization:settings_updated": "organization.settings_updated",
    "org:member:added": "member.added",
    "org:member:removed": "member.removed",
    "org:role:created": "role.created",
    "org:role:updated": "role.updated",
    "org:role:deleted": "role.deleted",
    "org:role:assigned": "role.assigned",
    "org:role:unassigned": "role.unassigned",
    "org:policy:published": "policy.published",
    "org:policy:rolled_back": "policy.rolled_back",
    "org:server:registered": "server.registered",
    "org:server:updated": "server.updated",
    "org:server:credentials_updated": "server.credentials_updated",
    "org:server:deleted": "server.deleted",
    "org:discovery:requested": "server.discovery_requested",
    "org:escalation_policy:updated": "escalation_policy.updated",
    "org:api_key:created": "api_key.created",
    "org:api_key:revoked": "api_key.revoked",
    "org:webhook:created": "webhook.created",
    "org:webhook:updated": "webhook.updated",
    "org:webhook:deleted": "webhook.deleted",
    "org:webhook:secret_rotated": "webhook.secret_rotated",
    "org:webhook:disabled": "webhook.disabled",
    "org:token:refresh_reuse_detected": "token.refresh_reuse_detected",
    "org:identity_provider:updated": "identity_provider.updated",
    "org:identity_provider:deleted": "identity_provider.deleted",
    "org:service_account:created": "service_account.created",
    "org:service_account:updated": "service_account.updated",
    "org:service_account:secret_rotated": "service_account.secret_rotated",
    "org:service_account:deleted": "service_account.deleted",
    "org:toolset:created": "toolset.created",
    "org:toolset:updated": "toolset.updated",
    "org:toolset:deleted": "toolset.deleted",
}

TEST_TYPE = "webhook.test"  # sent by ``POST /webhooks/{id}/test`` only, never subscribed to

EVENT_TYPES: tuple[str, ...] = tuple(sorted({*OUTBOX_TYPES, *AUDIT_TYPES.values()}))
_KNOWN = frozenset(EVENT_TYPES)
_PREFIXES = frozenset(
    ".".join(t.split(".")[:i]) for t in EVENT_TYPES for i in range(1, t.count(".") + 1)
)

DESCRIPTIONS: dict[str, str] = {
    "server.health.unhealthy": "A server failed its health checks past the threshold.",
    "server.health.degraded": "A server answers, but slowly or with errors.",
    "server.health.recovered": "A server is healthy again after a failure.",
    "server.capabilities.changed": "Discovery found a server's tools, resources or prompts "
    "changed.",
    "audit.checkpoint": "A signed checkpoint of the organization's audit log was published.",
}


def event_of_tag(tag: str) -> str | None:
    """The public event type of an audit tag, or None when the tag is not published."""
    return AUDIT_TYPES.get(tag)


def describe(event_type: str) -> str:
    if event_type in DESCRIPTIONS:
        return DESCRIPTIONS[event_type]
    noun, _, verb = event_type.rpartition(".")
    return f"The {noun.replace('_', ' ')} was {verb.replace('_', ' ')}."


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid subscription, or None when it is."""
    if pattern == "*" or pattern in _KNOWN:
        return None
    if pattern.endswith(".*") and pattern[:-2] in _PREFIXES:
        return None
    return f"'{pattern[:100]}' is not a known event type or pattern"


def matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
