"""What a process builds once from its settings: key ring, database, rate limiter storage."""

from __future__ import annotations

from dataclasses import dataclass, field

from sprintconnect.config import Settings
from sprintconnect.db.engine import Database
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.secrets import KeyRing, load_or_create_master


@dataclass
class Runtime:
    settings: Settings
    keyring: KeyRing
    db: Database
    clock: Clock = field(default_factory=Clock)


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    keyring = KeyRing(load_or_create_master(settings.resolved_data_dir, secret))
    return Runtime(
        settings=settings,
        keyring=keyring,
        db=Database(settings, keyring),
        clock=clock or Clock(),
    )
