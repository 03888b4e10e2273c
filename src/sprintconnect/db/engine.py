"""The application's engine and session factory, and the owner URL used by migrations."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from sprintconnect.config import Settings
from sprintconnect.db.embedded import embedded_url, release_embedded
from sprintconnect.db.urls import normalize, redacted, with_role
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.kit.sensitive import session_info

APP_ROLE_PASSWORD_PURPOSE = "database/app-role-password"  # noqa: S105 - a label


class Database:
    """Connections for one process: the app role's pool, and the owner URL for migrations."""

    def __init__(self, settings: Settings, keyring: KeyRing) -> None:
        owner = settings.database_url
        self.embedded = owner is None
        self._data_dir = settings.resolved_data_dir
        self.owner_url: URL = normalize(
            owner.get_secret_value() if owner else embedded_url(settings.resolved_data_dir)
        )
        self.manages_app_password = settings.app_database_url is None
        self.app_role_password = keyring.derived_password(APP_ROLE_PASSWORD_PURPOSE)
        self.app_url: URL = (
            normalize(settings.app_database_url.get_secret_value())
            if settings.app_database_url
            else with_role(self.owner_url, settings.database_app_role, self.app_role_password)
        )
        # With an explicit application URL, its user is the role that migrations grant to.
        self.app_role = self.app_url.username or settings.database_app_role
        self.engine: AsyncEngine = create_async_engine(
            self.app_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=True,
            pool_recycle=1800,
            # SQL parameters are user data (names, emails): errors and logs show the statement only.
            hide_parameters=True,
        )
        # Sessions carry the key that audit entries' sensitive fields are digested with.
        self.session_info = session_info(keyring)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, info=self.session_info
        )

    def describe(self) -> dict[str, str | bool]:
        return {"url": redacted(self.app_url), "embedded": self.embedded}

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close the pool, and release the embedded server when this process started one."""
        await self.engine.dispose()
        if self.embedded:
            release_embedded(self._data_dir)
