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
    # Platform operators' actions on jobs: in platform_audit_events, and in the job's org.
    JOB_REPLAYED = "platform:job:replayed"
    JOB_DISCARDED = "platform:job:discarded"
