"""Settings read from the environment (prefix ``SPRINTCONNECT_``) or a ``.env`` file."""

from __future__ import annotations

import ipaddress
import re
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
    # Byte budget of each process's in-memory search cache (used without Redis); 0 turns it off.
    search_cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)

    # Key material for HMACs and derived secrets. Absent in development: generated into
    # ``data_dir/secret_key`` on first run. Required in production.
    secret_key: SecretStr | None = None

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # How long an Idempotency-Key and its stored answer are kept; an expired key is new again.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=720)
    api_key_rate_limit: str = "600/minute"
    # One budget shared by all of an organization's keys (``limits`` notation; empty: off).
    org_rate_limit: str = "3000/minute"
    # Failed authentications per client address and, separately, per key prefix; past it,
    # requests from there answer 429 before any key is checked (empty: off).
    auth_failure_rate_limit: str = "30/minute"
    api_key_last_used_debounce_seconds: int = Field(default=60, ge=0)
    # A verified key (and its owner's roles) is reused for this long in one process; changes
    # made through this process apply at once, others within this bound (0: off).
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=300)

    # Background jobs. The in-process worker lets one `serve` process do everything.
    inprocess_worker: bool = True
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    worker_stalled_seconds: float = Field(default=30.0, gt=0)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    discovery_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    discovery_max_items: int = Field(default=2000, ge=1, le=100_000)
    discovery_max_item_bytes: int = Field(default=65_536, ge=1024)
    discovery_max_pages: int = Field(default=200, ge=1)

    # The MCP gateway and the playground: one upstream call's deadline (a toolset or a request
    # may ask for less, never more than the maximum); how long an unused upstream session stays
    # open; default rate limits per capability class (``limits`` notation, per caller; an
    # organization sets its own); measurements are written in batches this often.
    gateway_call_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    gateway_max_call_timeout_seconds: float = Field(default=300.0, gt=0, le=3600)
    gateway_upstream_idle_seconds: float = Field(default=120.0, gt=0, le=86_400)
    gateway_limit_read: str = "600/minute"
    gateway_limit_write: str = "120/minute"
    gateway_limit_expensive: str = "20/minute"
    gateway_toolset_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    measurement_flush_seconds: float = Field(default=0.5, gt=0, le=60)
    measurement_buffer_max: int = Field(default=100_000, ge=100)
    # Raw measurements (``tool_calls``) are pruned after this many days by a periodic job.
    measurement_retention_days: int = Field(default=30, ge=1, le=3650)

    # Bounds a whole connection check (token fetch, connect, initialize), not only each socket.
    mcp_connect_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    # Outbound operations (connection checks) that one organization's requests may run at once.
    outbound_concurrency_per_org: int = Field(default=4, ge=1, le=1000)
    default_server_quota: int = Field(default=1000, ge=0, le=1_000_000)
    # Health monitoring: the shortest check interval an organization may set unless its own
    # quota says otherwise; a whole check's deadline; checks one worker runs at once; whether
    # this process runs the health scheduler at all.
    health_min_interval_seconds: int = Field(default=60, ge=1, le=86400)
    health_check_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    health_concurrency: int = Field(default=32, ge=1, le=10_000)
    health_scheduler: bool = True
    health_batch_size: int = Field(default=100, ge=1, le=10_000)
    # How long raw check results and hourly rollups are kept (history answers from rollups, so
    # its longest range is the rollup window); older rows are pruned by a periodic job.
    health_raw_retention_days: int = Field(default=7, ge=1, le=3650)
    health_rollup_retention_days: int = Field(default=400, ge=1, le=3650)

    egress_allow_loopback: bool = False
    egress_allow_private_cidrs: list[str] = Field(default_factory=list)
    # Ports no outbound request may use (SSH, SMTP, Docker, PostgreSQL, Redis, kubelet).
    egress_denied_ports: list[int] = [22, 25, 2375, 5432, 6379, 10250]
    # Outbound requests per organization (``limits`` notation); empty turns the limit off.
    egress_rate_limit: str = "600/minute"

    # Policy decision point: Cedar in-process, or an OPA server's decision URL.
    pdp_backend: Literal["cedar", "opa"] = "cedar"
    opa_url: str | None = None
    pdp_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    # Rate-limit classes that a policy's ``throttle:<class>`` obligation may name, counted per
    # API key (``limits`` notation), e.g. '{"strict": "10/minute"}'. An unknown class denies.
    throttle_classes: dict[str, str] = Field(default_factory=dict)

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # "auto": readable lines when standard error is a terminal, JSON lines otherwise.
    log_format: Literal["auto", "json", "console"] = "auto"

    # /metrics: behind this bearer token when set; on a port of its own (and off the API's
    # port) when ``metrics_port`` is set, bound to ``metrics_host`` (default: ``host``).
    metrics_token: SecretStr | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str | None = None

    # Where credentials live: envelope-encrypted rows in PostgreSQL ("local"), or a Vault /
    # OpenBao KV v2 mount ("vault"). The local backend wraps each organization's data key under
    # key-encryption key version ``secret_store_kek_version``; to rotate it, raise the version
    # and run ``sprintconnect secrets rotate-key``.
    secret_store: Literal["local", "vault"] = "local"  # noqa: S105 - a backend name
    secret_store_kek_version: int = Field(default=1, ge=1, le=1_000_000)
    vault_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    vault_token: SecretStr | None = None
    vault_mount: str = Field(default="secret", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    vault_path_prefix: str = Field(
        default="sprintconnect",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){0,3}$",
    )
    vault_namespace: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,63})*$",
    )
    # Bounds each whole secret-store call to Vault, not only each socket operation.
    vault_timeout_seconds: int = Field(default=10, ge=1, le=300)
    vault_ca_bundle: Path | None = None

    # Notifications by email: the operator's SMTP server (unset: email notices are recorded as
    # failed, "not configured"). ``smtp_tls``: none, starttls (upgrade after connecting) or tls
    # (implicit TLS, usually port 465). The password is never logged or shown.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = Field(default="sprintconnect@localhost", min_length=3, max_length=320)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Attempts of one notification delivery (email, Slack, webhook) before it is ``failed``.
    notification_max_attempts: int = Field(default=6, ge=1, le=50)
    # Webhooks: each request's deadline; how long an endpoint may fail every attempt before it
    # is disabled; how many endpoints one organization may have.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_disable_after_days: int = Field(default=5, ge=1, le=90)
    webhook_max_endpoints: int = Field(default=50, ge=1, le=1000)
    # Audit ledger: how often an organization's grown audit tree gets a signed checkpoint.
    audit_checkpoint_seconds: int = Field(default=300, ge=60, le=86_400)

    # Sign-in and tokens (issue 14). The address clients and browsers reach SprintConnect at:
    # the token issuer (``iss``) and the base of the sign-in redirect URI. Absent: built from
    # host and port (http), which only suits development.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+$")
    # Lifetimes: access tokens from the token service, their refresh tokens, browser sessions
    # (idle and absolute), and how long a provider's metadata and JWKS are cached.
    access_token_seconds: int = Field(default=300, ge=30, le=3600)
    refresh_token_seconds: int = Field(default=30 * 86_400, ge=300, le=365 * 86_400)
    session_idle_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86_400)
    session_max_seconds: int = Field(default=24 * 3600, ge=300, le=90 * 86_400)
    jwks_cache_seconds: int = Field(default=300, ge=10, le=86_400)
    # Where browser sessions live: PostgreSQL, or Redis (needs SPRINTCONNECT_REDIS_URL).
    session_store: Literal["postgres", "redis"] = "postgres"
    # Step-up: sensitive operations need a sign-in at most this old (and, when set, this acr).
    step_up_max_age_seconds: int = Field(default=900, ge=30, le=86_400)
    step_up_acr: str | None = None
    # DPoP: require a server-provided nonce in every proof (RFC 9449 section 8).
    dpop_require_nonce: bool = False
    # mTLS-bound tokens (RFC 8705): the header a TLS-terminating proxy forwards the client's
    # certificate in (URL-encoded PEM). Unset: certificate-bound tokens are refused.
    client_cert_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    # The development identity provider on loopback (``make run`` with no provider set):
    # on by default in development; production refuses to start with it.
    dev_idp: bool | None = None
    dev_idp_port: int = Field(default=8009, ge=0, le=65535)

    @field_validator("egress_allow_private_cidrs")
    @classmethod
    def _cidrs_parse(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("throttle_classes")
    @classmethod
    def _throttle_classes_parse(cls, value: dict[str, str]) -> dict[str, str]:
        from limits import parse

        for name, limit in value.items():
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name):
                raise ValueError(f"class name {name!r} must be a lowercase slug")
            parse(limit)  # raises ValueError on anything that is not a rate such as 10/minute
        return value

    @field_validator("gateway_limit_read", "gateway_limit_write", "gateway_limit_expensive")
    @classmethod
    def _gateway_limit_parse(cls, value: str) -> str:
        from limits import parse

        if value.strip():
            parse(value)  # a startup error names the setting, rather than every call failing
        return value.strip()

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
            if self.dev_idp:
                raise ValueError(
                    "SPRINTCONNECT_DEV_IDP: the development identity provider cannot run in "
                    "production"
                )
        if self.session_store == "redis" and self.redis_url is None:
            raise ValueError("SPRINTCONNECT_SESSION_STORE=redis requires SPRINTCONNECT_REDIS_URL")
        same_host = self.metrics_host in (None, self.host)
        if self.metrics_port is not None and self.metrics_port == self.port and same_host:
            raise ValueError(
                "SPRINTCONNECT_METRICS_PORT must differ from SPRINTCONNECT_PORT on the same host"
            )
        if self.pdp_backend == "opa" and not self.opa_url:
            raise ValueError("SPRINTCONNECT_PDP_BACKEND=opa requires SPRINTCONNECT_OPA_URL")
        return self

    @property
    def dev_idp_enabled(self) -> bool:
        """Whether the development identity provider runs (development only, on by default)."""
        return self.env == "development" and self.dev_idp is not False

    @property
    def base_url(self) -> str:
        """``public_url``, or ``http://host:port`` when none is set."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @cached_property
    def resolved_data_dir(self) -> Path:
        """The data directory as an absolute path."""
        return self.data_dir.expanduser().resolve()

    @model_validator(mode="after")
    def _secret_store_requirements(self) -> Settings:
        vault = self.secret_store == "vault"  # noqa: S105 - a backend name
        if vault and (self.vault_url is None or self.vault_token is None):
            raise ValueError(
                "SPRINTCONNECT_SECRET_STORE=vault requires SPRINTCONNECT_VAULT_URL and "
                "SPRINTCONNECT_VAULT_TOKEN"
            )
        return self
