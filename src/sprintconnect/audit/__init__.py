"""The audit log: one ``record`` entry point, in the same transaction as the change."""

from sprintconnect.audit.service import Target, record, record_platform
from sprintconnect.audit.tags import AuditTag

__all__ = ["AuditTag", "Target", "record", "record_platform"]
