"""Audit tags, ``subject:object:action``, in one enum."""

from __future__ import annotations

from enum import StrEnum


class AuditTag(StrEnum):
    ORG_CREATED = "org:organization:created"
    ORG_SETTINGS_UPDATED = "org:organization:settings_updated"
    ORG_BOOTSTRAPPED = "org:organization:bootstrapped"
    ROLE_CREATED = "org:role:created"
    ROLE_UPDATED = "org:role:updated"
    ROLE_DELETED = "org:role:deleted"
    ROLE_ASSIGNED = "org:role:assigned"
    ROLE_UNASSIGNED = "org:role:unassigned"
    MEMBER_ADDED = "org:member:added"
    MEMBER_REMOVED = "org:member:removed"
    # Recorded in every organization the user belongs to (the operator CLI, owner connection).
    SUPER_ADMIN_GRANTED = "platform:super_admin:granted"
    SUPER_ADMIN_REVOKED = "platform:super_admin:revoked"
    POLICY_PUBLISHED = "org:policy:published"
    POLICY_ROLLED_BACK = "org:policy:rolled_back"
    SERVER_REGISTERED = "org:server:registered"
    SERVER_UPDATED = "org:server:updated"
    SERVER_CREDENTIALS_UPDATED = "org:server:credentials_updated"
    SERVER_DELETED = "org:server:deleted"
    # A policy's ``audit:full`` obligation: the whole request, secrets removed.
    REQUEST_AUDITED = "org:request:audited"
    DISCOVERY_REQUESTED = "org:discovery:requested"
    HEALTH_CHECK_RUN = "org:server_health:checked"
    NOTIFICATION_PREFERENCES_UPDATED = "org:notification_preferences:updated"
    ESCALATION_POLICY_UPDATED = "org:escalation_policy:updated"
    API_KEY_CREATED = "org:api_key:created"
    API_KEY_REVOKED = "org:api_key:revoked"
    API_KEY_AUTH_FAILED = "org:api_key:auth_failed"
    API_KEY_AUTH_EXPIRED = "org:api_key:auth_expired"
    API_KEY_AUTH_REVOKED = "org:api_key:auth_revoked"
    API_KEY_AUTH_THROTTLED = "org:api_key:auth_throttled"
    # A key's successful use: at most once per key and last-used debounce window.
    API_KEY_AUTHENTICATED = "org:api_key:authenticated"
    # A key that names no organization (unknown prefix, malformed): platform log, rate-bounded.
    API_KEY_AUTH_UNATTRIBUTED = "platform:api_key:auth_failed"
    # A discovery job stored a new capability snapshot (actor: system), not an unchanged one.
    DISCOVERY_COMPLETED = "org:discovery:completed"
    # Local secret store maintenance (``sprintconnect secrets …``), in the organization's log.
    SECRET_DATA_KEY_ROTATED = "org:secret_data_key:rotated"  # noqa: S105 - a tag
    SECRET_DATA_KEYS_REWRAPPED = "org:secret_data_key:rewrapped"  # noqa: S105 - a tag
    # Platform operators' actions on jobs: in platform_audit_events, and in the job's org.
    JOB_REPLAYED = "platform:job:replayed"
    JOB_DISCARDED = "platform:job:discarded"
    # An export of the audit log (format, range and filters in the details).
    AUDIT_EXPORTED = "org:audit:exported"
    WEBHOOK_CREATED = "org:webhook:created"
    WEBHOOK_UPDATED = "org:webhook:updated"
    WEBHOOK_DELETED = "org:webhook:deleted"
    WEBHOOK_SECRET_ROTATED = "org:webhook:secret_rotated"  # noqa: S105 - a tag
    # An endpoint that answered 410 Gone or failed for days (actor: system).
    WEBHOOK_DISABLED = "org:webhook:disabled"
    WEBHOOK_REDELIVERED = "org:webhook:redelivered"
    # The audit ledger's checkpoint signing key rotated (``sprintconnect audit rotate-key``).
    AUDIT_KEY_ROTATED = "platform:audit_key:rotated"
