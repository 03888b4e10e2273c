"""Settings read from the environment (prefix ``SPRINTCONNECT_``) or a ``.env`` file."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "production"]


class Settings(BaseSettings):
    """Every knob SprintConnect reads at start-up; see the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="SPRINTCONNECT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path(".sprintconnect")

    # Owner (migration) connection. Absent: embedded PostgreSQL in ``data_dir/postgres``.
    database_url: SecretStr | None = None
    # Application connection; absent: the owner URL with the application role swapped in,
    # its password derived from the secret key.
    app_database_url: SecretStr | None = None
    database_app_role: str = Field(default="sprintconnect_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    database_pool_size: int = Field(default=10, ge=1, le=200)

    redis_url: SecretStr | None = None

    # Key material for HMACs and derived secrets. Absent in development: generated into
    # ``data_dir/secret_key`` on first run. Required in production.
    secret_key: SecretStr | None = None

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    api_key_rate_limit: str = "600/minute"
    api_key_last_used_debounce_seconds: int = Field(default=60, ge=0)

    egress_allow_loopback: bool = False
    egress_allow_private_cidrs: list[str] = Field(default_factory=list)

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    @field_validator("egress_allow_private_cidrs")
    @classmethod
    def _cidrs_parse(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @model_validator(mode="after")
    def _production_requirements(self) -> Settings:
        if self.env == "production":
            missing = [
                name
                for name, value in (
                    ("SPRINTCONNECT_SECRET_KEY", self.secret_key),
                    ("SPRINTCONNECT_DATABASE_URL", self.database_url),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"production mode requires {', '.join(missing)}")
        return self

    @cached_property
    def resolved_data_dir(self) -> Path:
        """The data directory as an absolute path."""
        return self.data_dir.expanduser().resolve()
