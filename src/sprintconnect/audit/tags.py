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
    TOOLSET_CREATED = "org:toolset:created"
    TOOLSET_UPDATED = "org:toolset:updated"
    TOOLSET_DELETED = "org:toolset:deleted"
    # A tool, resource or prompt used through the gateway or the playground (written as the
    # call is let through, before the upstream server sees it; the outcome is measured).
    CAPABILITY_INVOKED = "org:capability:invoked"
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
    # Browser sign-in (issue 14): with IP and user agent; failures rate-bounded per org.
    SESSION_SIGNED_IN = "org:session:signed_in"
    SESSION_SIGN_IN_FAILED = "org:session:sign_in_failed"
    SESSION_SIGNED_OUT = "org:session:signed_out"
    # The provider refused to renew a session (refresh token revoked or expired).
    SESSION_RENEWAL_FAILED = "org:session:renewal_failed"
    IDENTITY_PROVIDER_UPDATED = "org:identity_provider:updated"
    IDENTITY_PROVIDER_DELETED = "org:identity_provider:deleted"
    # Token service (issue 14): service accounts, issued and revoked tokens, refresh reuse.
    SERVICE_ACCOUNT_CREATED = "org:service_account:created"
    SERVICE_ACCOUNT_UPDATED = "org:service_account:updated"
    SERVICE_ACCOUNT_SECRET_ROTATED = "org:service_account:secret_rotated"  # noqa: S105 - a tag
    SERVICE_ACCOUNT_DELETED = "org:service_account:deleted"
    SERVICE_ACCOUNT_AUTH_FAILED = "org:service_account:auth_failed"
    # Tokens issued (client credentials: at most once a minute per account; codes: each).
    TOKEN_ISSUED = "org:token:issued"  # noqa: S105 - a tag
    TOKEN_REVOKED = "org:token:revoked"  # noqa: S105 - a tag
    # A rotated refresh token or a used code presented again: its family is revoked (alert).
    TOKEN_REUSE_DETECTED = "org:token:refresh_reuse_detected"  # noqa: S105 - a tag
    # A refused access token that names an organization (rate-bounded like API key failures).
    TOKEN_AUTH_FAILED = "org:token:auth_failed"  # noqa: S105 - a tag
    TOKEN_KEY_ROTATED = "platform:token_key:rotated"  # noqa: S105 - a tag
