"""Settings, read from the environment (prefix SELECTION_) and an optional .env file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Everything the service can be told from outside."""

    model_config = SettingsConfigDict(env_prefix="SELECTION_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file in data_dir. "
        "postgresql://… is served through psycopg 3.",
    )
    secret_key: str | None = Field(default=None, repr=False)
    migration_database_url: str | None = Field(
        default=None, repr=False,
        description="The owner role's URL, for `migrate` and serve's migration step; the"
        " service itself then runs as SELECTION_DATABASE_URL, a role that may only read and"
        " append the record")
    record_keys: str | None = Field(
        default=None, repr=False,
        description="The record's MAC keys, `id:key,id:key` (the last one signs), added to"
        " those in the key file data_dir/record_keys")
    record_checkpoint_events: int = Field(
        default=1000, ge=1, description="An automatic checkpoint after this many new events")
    record_checkpoint_hours: float = Field(
        default=24, gt=0, description="…and at least this often while events are written")
    record_checkpoint_poll_seconds: float = Field(
        default=60, gt=0, description="How often serve looks whether a checkpoint is due")
    verify_processes: int = Field(
        default=0, ge=0, description="Processes that verify a record of 20,000 events or more"
        " at once (0: one per core)")
    token_minutes: int = Field(default=15, ge=1, le=24 * 60,
                               description="An access token's lifetime; a browser renews it"
                               " with its refresh token (POST /auth/refresh)")
    refresh_token_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="A refresh token not used for this long"
        " expires; each use gives a new one (rotation)")
    session_hours: float = Field(
        default=24, gt=0, le=24 * 90, description="A login's refresh tokens end this long"
        " after the login, however often they were renewed")
    require_if_match: bool = Field(
        default=True, description="The default of a new selection's `require_if_match`"
        " setting: writes to it and its candidates need If-Match (428 without)")
    jwt_issuer: str = "branch-secretary-selection"
    jwt_audience: str = "branch-secretary-selection-api"
    cors_origins: Annotated[list[str], NoDecode] = []
    admin_username: str = "admin"
    admin_password: str | None = Field(
        default=None, repr=False,
        description="The first administrator's password, used only when `serve` creates them")
    admin_full_name: str = "组织部管理员"
    time_zone: str = Field(
        default="Asia/Shanghai", description="The time zone of the times a person reads (pages,"
        " emails, problem details), an IANA name; what the API returns stays in UTC")
    office_contact: str | None = Field(
        default=None, max_length=500, description="How the public reaches the organization"
        " department (address, telephone, email), shown in public announcements and notices")
    smtp_host: str | None = Field(default=None, description="No host: emails are kept, queued")
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_timeout_seconds: float = 10
    mail_from: str = "selection-office@localhost"
    mail_sender_in_process: bool = Field(
        default=True, description="Run the email sender inside `serve`; turn off when a"
        " separate `python -m service send-mail` runs")
    mail_poll_seconds: float = 5
    mail_max_attempts: int = 10
    webhook_sender_in_process: bool = Field(
        default=True, description="Run the webhook sender inside `serve`; turn off when a"
        " separate `python -m service send-webhooks` runs")
    webhook_poll_seconds: float = Field(default=5, gt=0)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=120,
                                           description="Per HTTP attempt, connect to last byte")
    webhook_max_attempts: int = Field(default=8, ge=1, le=50,
                                      description="Tries before a delivery is given up")
    webhook_backoff_base_seconds: float = Field(
        default=60, ge=0, description="Wait after the first failure; doubled after each next")
    webhook_backoff_max_seconds: float = Field(default=6 * 3600, ge=0,
                                               description="Longest wait between two tries")
    webhook_previous_secret_hours: float = Field(
        default=24, ge=0, description="After a secret rotation, messages are signed with the"
        " old secret too for this long")
    idempotency_hours: int = Field(default=24, ge=1, le=24 * 30,
                                   description="How long an Idempotency-Key is remembered")
    login_max_failures_per_account_address: int = Field(
        default=5, ge=1, description="Failed logins of one account from one address, per window")
    login_max_failures_per_account: int = Field(
        default=50, ge=1, description="Failed logins of one account from all addresses")
    login_max_failures_per_client: int = Field(
        default=20, ge=1, description="Failed logins from one address, whatever the account;"
        " accounts that logged in from there lately are not refused by it")
    login_window_minutes: int = Field(default=15, ge=1)
    login_wait_seconds: float = Field(
        default=5, gt=0, le=60, description="How long a login waits for a hashing slot of its"
        " process before it is answered 503 logins_busy")
    hashing_share: float = Field(
        default=0.25, gt=0, le=1, description="The share of each hashing slot's time that"
        " password hashes may take: after a hash, the slot rests until the hash's time is this"
        " share of the time since it began (1: no rest)")
    login_trusted_days: int = Field(
        default=30, ge=0, description="How long a login from an address exempts that account"
        " there from the address's limit")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[], description="Addresses (or networks) of reverse proxies whose"
        " X-Forwarded-For is believed; none by default")
    max_body_bytes: int = Field(default=1024 * 1024, description="Larger requests get 413")
    sqlite_busy_timeout_ms: int = 15000
    max_page_size: int = 200

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r}") from e
        return value

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, v):
        if isinstance(v, str):
            return [o.strip() for o in v.split(",") if o.strip()]
        return v

    @model_validator(mode="after")
    def _secret_is_strong(self):
        if self.secret_key is not None and len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"SELECTION_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL, SQLite in data_dir when none is set; postgresql:// means psycopg 3."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'selection.db').as_posix()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    @property
    def effective_migration_url(self) -> str:
        """The URL migrations run with: the owner's when given, else the service's own."""
        if not self.migration_database_url:
            return self.effective_database_url
        url = self.migration_database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.effective_database_url.startswith("sqlite")

    @property
    def secret_key_file(self) -> Path:
        """Where the signing key is kept when the environment does not give one."""
        return self.data_dir / "secret_key"

    def signing_key(self) -> str:
        """The JWT signing key: SELECTION_SECRET_KEY, else the key file in data_dir. In
        development a missing file is created with a new random key; in production it is
        refused (MissingSecretKey), as a key made on the fly would end every session at the
        next start of a fresh container."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            key = path.read_text().strip()
            if len(key.encode()) < MIN_SECRET_BYTES:
                raise MissingSecretKey(f"The signing key in {path} is shorter than"
                                       f" {MIN_SECRET_BYTES} bytes. {KEY_HOW}")
            return key
        if self.environment == "production":
            raise MissingSecretKey(f"No signing key: production mode needs SELECTION_SECRET_KEY"
                                   f" or the file {path}. {KEY_HOW}")
        return write_secret_key(path)


class MissingSecretKey(RuntimeError):
    """Production mode without a usable signing key."""


KEY_HOW = ("Give one in the environment (SELECTION_SECRET_KEY, 32 bytes or more), or write one"
           " into the data folder once with `python -m service generate-secret-key`.")


def write_secret_key(path: Path) -> str:
    """A new random signing key, written to `path` readable by its owner only."""
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
