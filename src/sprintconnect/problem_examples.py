"""Example answers for every problem type, shown in OpenAPI under each error response.

Keyed by slug. Each entry gives the ``detail`` (and ``instance``) a real answer would carry, the
members the type adds, and for a 422 the ``loc`` its ``errors`` entry names (or ``errors``
itself). ``errors.problem_example`` fills in type, title, status and request_id. A new problem
type adds its entry here; ``tests/api/test_problems.py`` checks that every documented one has.

Plain data: this module imports nothing from SprintConnect, so ``errors`` can import it.
"""

from __future__ import annotations

from typing import Any

_SERVER = "/api/v1/servers/7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13"
_KEY = "/api/v1/api-keys/d9a368c0-55c1-4f0e-8b7a-0e6f4d2c1a93"
_MEMBER = "/api/v1/users/5d866963-8f41-4b2e-a0c7-61d2e9f3b4a8"
_JOB = "/api/v1/admin/jobs/4182"
_TOOLSET = "/api/v1/toolsets/0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90"
_INVOKE = f"{_SERVER}/tools/get_weather/invoke"

EXAMPLES: dict[str, dict[str, Any]] = {
    # 400
    "bad-request": {
        "detail": "The request could not be read as HTTP.",
        "instance": "/api/v1/servers",
    },
    "key-rotation-unsupported": {
        "detail": "The vault secret store keeps its own keys; rotate them on the Vault server.",
        "instance": "/api/v1/servers",
    },
    "authorization-request-invalid": {
        "detail": "redirect_uri must be http://127.0.0.1:<port>/callback (or [::1]).",
        "instance": "/oauth/authorize",
    },
    # 401
    "session-expired": {
        "detail": "Your identity provider no longer confirms your sign-in. Sign in again.",
        "instance": "/api/v1/me",
        "login_url": "https://sc.example/auth/login?org=acme",
    },
    "step-up-required": {
        "detail": "This operation needs a recent sign-in. Sign in again and retry.",
        "instance": "/api/v1/organization/identity-provider",
        "login_url": "https://sc.example/auth/login?org=acme&prompt=login&max_age=900",
        "max_age": 900,
    },
    "authentication-required": {
        "detail": "Send an API key as 'Authorization: Bearer sc_<prefix>_<secret>'.",
        "instance": "/api/v1/me",
    },
    "invalid-credentials": {
        "detail": "The API key is not valid.",
        "instance": "/api/v1/me",
    },
    "credentials-expired": {
        "detail": "The API key expired at 2026-12-26T23:29:59+00:00; create a new key.",
        "instance": "/api/v1/me",
        "expired_at": "2026-12-26T23:29:59+00:00",
    },
    "metrics-token-required": {
        "detail": "Send the token from SPRINTCONNECT_METRICS_TOKEN as "
        "'Authorization: Bearer <token>'.",
        "instance": "/metrics",
    },
    "credentials-revoked": {
        "detail": "The API key was revoked at 2026-11-02T10:15:00+00:00.",
        "instance": "/api/v1/me",
    },
    # 403
    "csrf-token-missing": {
        "detail": "Requests that change something need the X-CSRF-Token header; "
        "GET /auth/session answers the token.",
        "instance": "/auth/logout",
    },
    "csrf-token-invalid": {
        "detail": "The X-CSRF-Token header does not match this session.",
        "instance": "/auth/logout",
    },
    "cross-site-request": {
        "detail": "A request from another origin cannot use your session.",
        "instance": "/auth/logout",
    },
    "browser-session-required": {
        "detail": "Open this URL in a browser signed in to SprintConnect; API credentials "
        "cannot authorize a client.",
        "instance": "/oauth/authorize",
    },
    "permission-denied": {
        "detail": "You may not do this here.",
        "instance": _SERVER,
    },
    "insufficient-scope": {
        "detail": "This operation requires the scope 'servers:write'.",
        "instance": "/api/v1/servers",
        "required_scopes": ["servers:write"],
        "granted_scopes": ["read"],
    },
    "policy-denied": {
        "detail": "The policy decision point denied 'servers:write'.",
        "instance": "/api/v1/servers",
        "decision_id": "0f5e3d2c1b0a49e8a7f6e5d4c3b2a190",
        "action": "servers:write",
        "reasons": ["office-hours"],
    },
    "obligation-not-understood": {
        "detail": "The policy allowed 'servers:read' with an obligation this server does not "
        "understand, so the request is denied: obligation not understood: 'throttle:slow' "
        "(no throttle class 'slow' is configured).",
        "instance": "/api/v1/servers",
        "decision_id": "5b1d0c9e8f7a4b6c9d2e1f0a3b4c5d6e",
        "action": "servers:read",
    },
    "scope-above-granter": {
        "detail": "Your key does not cover these scopes: servers:write.",
        "instance": "/api/v1/api-keys",
        "missing_scopes": ["servers:write"],
    },
    "member-key-required": {
        "detail": "Notification preferences belong to a member; this is a service key. Use a "
        "key that a member created.",
        "instance": "/api/v1/me/notification-preferences",
    },
    "key-owner-required": {
        "detail": "Service keys cannot create API keys; use a member's key.",
        "instance": "/api/v1/api-keys",
    },
    "key-above-revoker": {
        "detail": "This key acts with users:write, which your key does not act with.",
        "instance": f"{_KEY}/revoke",
        "missing_permissions": ["users:write"],
        "operator_key": False,
    },
    "key-reach-above-granter": {
        "detail": "With these scopes the member's key would act with users:write, which you "
        "do not hold. Narrow the scopes.",
        "instance": f"{_MEMBER}/api-keys",
        "missing_permissions": ["users:write"],
    },
    "grant-above-granter": {
        "detail": "Role 'release-manager' grants audit:read, which you do not hold.",
        "instance": "/api/v1/roles",
        "missing_permissions": ["audit:read"],
    },
    "server-quota-exceeded": {
        "detail": "This organization may register 100 servers and has 100.",
        "instance": "/api/v1/servers",
        "limit": 100,
        "used": 100,
    },
    "super-admin-required": {
        "detail": "Only platform super admins may manage background jobs.",
        "instance": "/api/v1/admin/jobs",
    },
    # 404
    "identity-provider-not-found": {
        "detail": "This organization has no identity provider; PUT one to enable sign-in.",
        "instance": "/api/v1/organization/identity-provider",
    },
    "service-account-not-found": {
        "detail": "No service account has the id 6f0c2a0e-1d7b-4c1e-9a51-3b2f0e8d4c11 in this "
        "organization.",
        "instance": "/api/v1/service-accounts/6f0c2a0e-1d7b-4c1e-9a51-3b2f0e8d4c11",
    },
    "not-found": {
        "detail": "Nothing has this id here.",
        "instance": _SERVER,
    },
    "route-not-found": {
        "detail": "No route matches GET /api/v1/server.",
        "instance": "/api/v1/server",
    },
    "metrics-on-separate-port": {
        "detail": "Metrics are served on port 9100 (SPRINTCONNECT_METRICS_PORT).",
        "instance": "/metrics",
    },
    "api-key-not-found": {
        "detail": "No API key has the id d9a368c0-55c1-4f0e-8b7a-0e6f4d2c1a93 here.",
        "instance": _KEY,
    },
    "audit-event-not-found": {
        "detail": "No audit entry has the id 0b9a4a57-3c8e-4d6c-9f57-1a2b3c4d5e6f here.",
        "instance": "/api/v1/audit/events/0b9a4a57-3c8e-4d6c-9f57-1a2b3c4d5e6f",
    },
    "audit-checkpoint-not-found": {
        "detail": "This organization's audit log has no checkpoint yet.",
        "instance": "/api/v1/audit/checkpoints/latest",
    },
    "audit-entry-not-sequenced": {
        "detail": "The entry is not sequenced yet; it will be within a minute. Try again then.",
        "instance": "/api/v1/audit/events/0b9a4a57-3c8e-4d6c-9f57-1a2b3c4d5e6f/inclusion-proof",
    },
    "audit-tree-size-invalid": {
        "detail": "The ledger's tree has sizes 1 to 1204; 5000 is not one.",
        "instance": "/api/v1/audit/consistency-proof",
        "loc": ["query", "tree_size"],
    },
    "member-not-found": {
        "detail": "No member has the user id 5d866963-8f41-4b2e-a0c7-61d2e9f3b4a8 here.",
        "instance": _MEMBER,
    },
    "role-not-found": {
        "detail": "No role is named 'release-manager' in this organization.",
        "instance": "/api/v1/roles/release-manager",
    },
    "policy-version-not-found": {
        "detail": "This organization has no policy version 7.",
        "instance": "/api/v1/policies/versions/7",
    },
    "subject-not-found": {
        "detail": "No member has the user id 5d866963-8f41-4b2e-a0c7-61d2e9f3b4a8 here.",
        "instance": "/api/v1/policies/dry-run",
    },
    "server-not-found": {
        "detail": "No MCP server has the id 7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13 here.",
        "instance": _SERVER,
    },
    "discovery-not-found": {
        "detail": "No discovery has the id 1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6 here.",
        "instance": "/api/v1/discoveries/1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6",
    },
    "snapshot-not-found": {
        "detail": "This server has no snapshot version 9.",
        "instance": f"{_SERVER}/snapshots/1/diff/9",
    },
    "secret-not-found": {
        "detail": "No secret is stored at 'servers/7c0e4a51-…/auth' in this organization.",
        "instance": f"{_SERVER}/connection-check",
    },
    "job-not-found": {
        "detail": "No job has the id 4182.",
        "instance": _JOB,
    },
    "user-not-found": {
        "detail": "No user has the email ops@example.com.",
        "instance": "/api/v1/users",
    },
    "organization-not-found": {
        "detail": "No organization has the id, slug or name 'acme'.",
        "instance": "/api/v1/organization",
    },
    "toolset-not-found": {
        "detail": "No toolset 0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90 in your organization.",
        "instance": _TOOLSET,
    },
    "capability-not-found": {
        "detail": "The latest capability snapshot of 'weather' has no tool 'get_weather'. Run a "
        "discovery (POST /api/v1/servers/7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13/discoveries) if "
        "the server has it now.",
        "instance": _INVOKE,
    },
    # 405
    "method-not-allowed": {
        "detail": "PUT is not allowed on /api/v1/servers.",
        "instance": "/api/v1/servers",
    },
    # 409
    "service-account-name-taken": {
        "detail": "A service account named 'deploy-bot' exists in this organization.",
        "instance": "/api/v1/service-accounts",
    },
    "conflict": {
        "detail": "The resource changed meanwhile; read it again.",
        "instance": _SERVER,
    },
    "organization-exists": {
        "detail": "The organization slug 'acme' is taken.",
        "instance": "/api/v1/organization",
    },
    "already-member": {
        "detail": "ops@example.com is already a member of this organization.",
        "instance": "/api/v1/users",
    },
    "role-exists": {
        "detail": "A role named 'release-manager' already exists.",
        "instance": "/api/v1/roles",
    },
    "built-in-role": {
        "detail": "'engineer' is built in; create a custom role instead.",
        "instance": "/api/v1/roles/engineer",
    },
    "role-in-use": {
        "detail": "Role 'release-manager' is held by 2 member(s) and extended by no role; "
        "remove those first.",
        "instance": "/api/v1/roles/release-manager",
        "holders": 2,
        "extended_by": [],
    },
    "last-admin": {
        "detail": "Assign 'admin' to another member first.",
        "instance": f"{_MEMBER}/roles/admin",
    },
    "server-name-taken": {
        "detail": "The production environment already has a server named 'weather'.",
        "instance": "/api/v1/servers",
        "conflicting_server_id": "7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13",
    },
    "toolset-name-taken": {
        "detail": "Your organization has a toolset named 'support-agent'.",
        "instance": "/api/v1/toolsets",
    },
    "capability-changed-upstream": {
        "detail": "The server no longer has the tool 'get_weather'.",
        "instance": _INVOKE,
        "reason": "capability_missing",
        "discovery_queued": True,
    },
    "idempotency-in-progress": {
        "detail": "The first request with this Idempotency-Key has not finished; retry shortly "
        "to receive its answer.",
        "instance": "/api/v1/servers",
        "retry_after": 1,
    },
    "job-not-dead": {
        "detail": "Job 4182 is queued, not dead.",
        "instance": f"{_JOB}/replay",
    },
    "job-already-queued": {
        "detail": "A job for the same work already waits: 4190.",
        "instance": f"{_JOB}/replay",
    },
    # 413, 414
    "payload-too-large": {
        "detail": "The request body exceeds the configured limit.",
        "instance": "/api/v1/policies",
    },
    "uri-too-long": {
        "detail": "The path and query string may total at most 8192 bytes.",
        "instance": "/api/v1/discovery/servers",
        "max_url_bytes": 8192,
    },
    # 422
    "identity-provider-unusable": {
        "detail": "The provider's metadata at "
        "https://idp.example/.well-known/openid-configuration could not be read: the key "
        "endpoint could not be reached.",
        "instance": "/api/v1/organization/identity-provider",
        "loc": ["body", "issuer"],
    },
    "unknown-mapped-role": {
        "detail": "Group 'developers' maps to the role 'dev', which does not exist in this "
        "organization.",
        "instance": "/api/v1/organization/identity-provider",
        "loc": ["body", "group_roles", "developers"],
    },
    "validation-failed": {
        "detail": "body.scopes.0: Input should be a known scope",
        "instance": "/api/v1/api-keys",
        "errors": [
            {
                "loc": ["body", "scopes", 0],
                "msg": "Input should be a known scope",
                "type": "value_error",
            }
        ],
    },
    "health-interval-below-minimum": {
        "detail": "The check interval must be at least 60 seconds (the organization's minimum); "
        "30 was given.",
        "instance": _SERVER,
        "minimum": 60,
        "loc": ["body", "health", "interval_seconds"],
    },
    "invalid-cursor": {
        "detail": "Use the next_cursor value from a previous page, unchanged.",
        "instance": "/api/v1/servers",
    },
    "json-too-deep": {
        "detail": "JSON bodies may nest arrays and objects at most 64 levels deep.",
        "instance": "/api/v1/servers",
        "max_depth": 64,
    },
    "role-cycle": {
        "detail": "Inheritance would loop: ra -> rc -> rb -> ra.",
        "instance": "/api/v1/roles/ra",
        "cycle": ["ra", "rc", "rb", "ra"],
    },
    "policy-invalid": {
        "detail": "1 problem(s): unexpected end of input",
        "instance": "/api/v1/policies",
        "problems": ["unexpected end of input"],
        "errors": [
            {"loc": ["body", "text"], "msg": "unexpected end of input", "type": "policy-invalid"}
        ],
    },
    "egress-denied": {
        "detail": "The destination address is in a range that is not allowed.",
        "instance": "/api/v1/servers",
        "reason": "address_denied:private",
    },
    "invalid-secret-value": {
        "detail": "The credentials may total at most 65536 bytes.",
        "instance": "/api/v1/servers",
    },
    "invalid-secret-path": {
        "detail": "A secret path is made of segments of letters, digits, '-' and '_'.",
        "instance": "/api/v1/servers",
    },
    "idempotency-key-invalid": {
        "detail": "Send one Idempotency-Key header of 1 to 255 printable ASCII characters, "
        "without leading or trailing spaces; a UUID is a good choice.",
        "instance": "/api/v1/servers",
    },
    "idempotency-key-reused": {
        "detail": "This Idempotency-Key was first used for POST /api/v1/servers with another "
        "body; use a new key for a new request.",
        "instance": "/api/v1/servers",
    },
    "tool-arguments-invalid": {
        "detail": "Nothing was sent to the server: 'city' 42 is not of type 'string' (the input "
        "schema of 'get_weather' in the latest capability snapshot).",
        "instance": _INVOKE,
        "errors": [
            {
                "loc": ["body", "arguments", "city"],
                "msg": "42 is not of type 'string'",
                "type": "schema.type",
            }
        ],
    },
    # 429
    "throttled-by-policy": {
        "detail": "A policy puts this request in a throttle class of 10/minute per key; "
        "retry in 41s.",
        "instance": "/api/v1/discovery/servers",
        "retry_after": 41,
    },
    "rate-limited": {
        "detail": "The rate limit of 600/minute for these credentials is spent; retry in 12s.",
        "instance": "/api/v1/servers",
        "retry_after": 12,
    },
    "org-rate-limited": {
        "detail": "The organization may make 3000/minute requests across all of its keys; "
        "retry in 7s.",
        "instance": "/api/v1/servers",
        "retry_after": 7,
    },
    "authentication-throttled": {
        "detail": "Too many failed authentications from this address or for this key "
        "(limit 30/minute); no credentials are checked for 40s.",
        "instance": "/api/v1/me",
        "retry_after": 40,
    },
    "outbound-concurrency-exceeded": {
        "detail": "This organization already runs 4 outbound operations (connection checks) at "
        "once, its limit; retry in 9s.",
        "instance": f"{_SERVER}/connection-check",
        "retry_after": 9,
        "limit": 4,
    },
    "egress-rate-limited": {
        "detail": "The outbound request limit of 120/minute is spent; retry in 5s.",
        "instance": f"{_SERVER}/connection-check",
        "reason": "rate_limited",
        "retry_after": 5,
    },
    "capability-rate-limited": {
        "detail": "Calls of 'write' capabilities are limited to 120/minute per caller in this "
        "organization; retry in 18s.",
        "instance": _INVOKE,
        "retry_after": 18,
        "capability_class": "write",
    },
    # 431
    "headers-too-large": {
        "detail": "The request's headers may total at most 32768 bytes.",
        "instance": "/api/v1/servers",
        "max_header_bytes": 32768,
    },
    # 5xx
    "internal-error": {
        "detail": "An unexpected error occurred; quote the request_id when reporting it.",
        "instance": "/api/v1/servers",
    },
    "secret-integrity-failure": {
        "detail": "The stored credentials failed their integrity check; nothing was decrypted.",
        "instance": f"{_SERVER}/connection-check",
    },
    "service-unavailable": {
        "detail": "A dependency did not answer; retry later.",
        "instance": "/readyz",
    },
    "secret-store-unavailable": {
        "detail": "The secret store did not answer within 5 seconds.",
        "instance": "/api/v1/servers",
    },
    "not-ready": {
        "detail": "Not reachable: redis.",
        "instance": "/readyz",
        "checks": {"database": "ok", "redis": "fail"},
    },
    "upstream-failed": {
        "detail": "ConnectError: All connection attempts failed. Nothing accepted the "
        "connection. Check that the server runs and listens on that port, and that firewalls "
        "let SprintConnect through.",
        "instance": _INVOKE,
        "reason": "connection_refused",
    },
    "upstream-timeout": {
        "detail": "The server did not answer within 60s; the call was abandoned and the server "
        "told to cancel it.",
        "instance": _INVOKE,
        "reason": "timeout",
    },
    # webhooks
    "webhook-not-found": {
        "detail": "No webhook has the id 0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90 in this "
        "organization.",
        "instance": "/api/v1/webhooks/0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90",
    },
    "webhook-delivery-not-found": {
        "detail": "Webhook 0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90 has no delivery with the id "
        "6e2d9c41-7a3b-4f58-b0e1-2c9f8d7a6b53.",
        "instance": "/api/v1/webhooks/0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90/deliveries/"
        "6e2d9c41-7a3b-4f58-b0e1-2c9f8d7a6b53",
    },
    "webhook-limit-reached": {
        "detail": "An organization may have 50 webhook endpoints; delete one first.",
        "instance": "/api/v1/webhooks",
        "limit": 50,
    },
    "webhook-delivery-pending": {
        "detail": "This delivery is still pending; it is sent on its schedule (or when the "
        "webhook is enabled again).",
        "instance": "/api/v1/webhooks/0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90/deliveries/"
        "6e2d9c41-7a3b-4f58-b0e1-2c9f8d7a6b53/redeliver",
    },
    "unknown-event-type": {
        "detail": "1 unknown event type(s); known: api_key.created, server.registered, ..., "
        "a '<prefix>.*' pattern or '*'.",
        "instance": "/api/v1/webhooks",
        "errors": [
            {
                "loc": ["body", "event_types", 0],
                "msg": "'server.exploded' is not a known event type or pattern",
                "type": "unknown_event_type",
            }
        ],
        "known_event_types": ["api_key.created", "server.registered"],
    },
    "database-not-ready": {
        "detail": "The database did not answer within 2 seconds.",
        "instance": "/readyz",
    },
}
