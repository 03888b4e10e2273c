"""SQLAlchemy tables, one module per aggregate."""

from sprintconnect.models.access import PolicyVersion, Role, RoleAssignment
from sprintconnect.models.api_key import ApiKey
from sprintconnect.models.audit import AuditEvent, PlatformAuditEvent
from sprintconnect.models.audit_ledger import (
    AuditCheckpoint,
    AuditLeaf,
    AuditLedgerHead,
    AuditSigningKey,
)
from sprintconnect.models.base import Base
from sprintconnect.models.catalog import ServerCapability
from sprintconnect.models.discovery import CapabilityItem, CapabilitySnapshot, Discovery
from sprintconnect.models.gateway import ToolCall, Toolset, ToolsetServer
from sprintconnect.models.health import HealthCheck, HealthRollup, HealthTransition, ServerHealth
from sprintconnect.models.idempotency import IdempotencyKey
from sprintconnect.models.mcp_server import McpServer
from sprintconnect.models.notification import (
    EscalationPolicy,
    NotificationCooldown,
    NotificationDelivery,
    NotificationPreference,
)
from sprintconnect.models.organization import Organization
from sprintconnect.models.outbox import OutboxEvent
from sprintconnect.models.secret import SecretDataKey, StoredSecret
from sprintconnect.models.sign_in import BrowserSession, IdentityProvider, LoginState, UserIdentity
from sprintconnect.models.token import (
    AuthorizationCode,
    RefreshToken,
    RevokedAccessToken,
    ServiceAccount,
    TokenSigningKey,
)
from sprintconnect.models.user import Membership, User
from sprintconnect.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditLeaf",
    "AuditLedgerHead",
    "AuditSigningKey",
    "AuthorizationCode",
    "Base",
    "BrowserSession",
    "CapabilityItem",
    "CapabilitySnapshot",
    "Discovery",
    "EscalationPolicy",
    "HealthCheck",
    "HealthRollup",
    "HealthTransition",
    "IdempotencyKey",
    "IdentityProvider",
    "LoginState",
    "McpServer",
    "Membership",
    "NotificationCooldown",
    "NotificationDelivery",
    "NotificationPreference",
    "Organization",
    "OutboxEvent",
    "PlatformAuditEvent",
    "PolicyVersion",
    "RefreshToken",
    "RevokedAccessToken",
    "Role",
    "RoleAssignment",
    "SecretDataKey",
    "ServerCapability",
    "ServerHealth",
    "ServiceAccount",
    "StoredSecret",
    "TokenSigningKey",
    "ToolCall",
    "Toolset",
    "ToolsetServer",
    "User",
    "UserIdentity",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
