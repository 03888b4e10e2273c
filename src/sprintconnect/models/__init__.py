"""SQLAlchemy tables, one module per aggregate."""

from sprintconnect.models.access import PolicyVersion, Role, RoleAssignment
from sprintconnect.models.api_key import ApiKey
from sprintconnect.models.audit import AuditEvent, PlatformAuditEvent
from sprintconnect.models.base import Base
from sprintconnect.models.catalog import ServerCapability
from sprintconnect.models.discovery import CapabilityItem, CapabilitySnapshot, Discovery
from sprintconnect.models.idempotency import IdempotencyKey
from sprintconnect.models.mcp_server import McpServer
from sprintconnect.models.organization import Organization
from sprintconnect.models.outbox import OutboxEvent
from sprintconnect.models.secret import SecretDataKey, StoredSecret
from sprintconnect.models.user import Membership, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "CapabilityItem",
    "CapabilitySnapshot",
    "Discovery",
    "IdempotencyKey",
    "McpServer",
    "Membership",
    "Organization",
    "OutboxEvent",
    "PlatformAuditEvent",
    "PolicyVersion",
    "Role",
    "RoleAssignment",
    "SecretDataKey",
    "ServerCapability",
    "StoredSecret",
    "User",
]
