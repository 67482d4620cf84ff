"""Settings from environment variables (pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import PROJECT_ROOT

TELEGRAM_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    bot_api_url: str = TELEGRAM_API_URL
    database_path: Path = Path("saylau.db")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: Literal["kk", "ru", "en"] = "kk"
    data_dir: Path = PROJECT_ROOT / "data"
    locales_dir: Path = PROJECT_ROOT / "locales"
    webhook_url: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # /healthz and /metrics on their own port, in either mode (webhook mode also serves them
    # on the webhook's port); 503 once an update has waited longer than HEALTH_MAX_AGE s.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"
    health_max_age: float = Field(default=60.0, gt=0)
    workers: int = Field(default=16, ge=1, le=256)
    send_rate: float = Field(default=25.0, gt=0)
    chat_send_interval: float = Field(default=1.0, ge=0)
    broadcast_in_flight: int = Field(default=4, ge=1, le=64)
    retry_max_delay: float = Field(default=30.0, gt=0)
    shutdown_timeout: float = Field(default=10.0, ge=0)
    throttle_burst: int = Field(default=10, ge=1)
    throttle_rate: float = Field(default=0.5, gt=0)
    unanswered_retention_days: int = Field(default=90, ge=1)
    # How often the running bot looks for content another process (`bot import`) stored.
    content_poll_seconds: float = Field(default=5.0, gt=0)
    # Who runs this copy of the bot and how to reach them, shown by /about.
    operator_name: str | None = None
    operator_contact: str | None = None

    def token(self) -> str:
        """The Bot API token `run` needs, checked as aiogram checks it (digits, a colon, the
        secret) so a bad one is one clear line before the bot's slow imports."""
        if self.bot_token is None:
            raise SettingsError(
                "BOT_TOKEN is not set: get one from @BotFather, or try the bot without one: "
                "python -m bot chat"
            )
        token = self.bot_token.get_secret_value()
        number, colon, secret = token.partition(":")
        if not (colon and number.isdigit() and secret) or any(ch.isspace() for ch in token):
            raise SettingsError("BOT_TOKEN is malformed: expected <digits>:<letters>")
        return token

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError("expected comma-separated numeric Telegram user ids") from None
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without the secret anyone who finds the URL could post forged updates.
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if self.webhook_url and not secret:
            raise ValueError(
                "WEBHOOK_URL is set but WEBHOOK_SECRET is not: set a random secret of "
                "1-256 characters A-Z, a-z, 0-9, _ and - (e.g. openssl rand -hex 32)"
            )
        return self

    @model_validator(mode="after")
    def _ports_differ(self) -> Settings:
        if self.webhook_url and self.health_port == self.webhook_port:
            raise ValueError(
                "HEALTH_PORT is WEBHOOK_PORT: the webhook's port serves /healthz and /metrics "
                "already; leave HEALTH_PORT unset or pick another port"
            )
        return self

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        text = value.get_secret_value() if value is not None else ""
        if text and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", text):
            raise ValueError("1-256 characters A-Z, a-z, 0-9, _ and - only")
        return value

    @field_validator("bot_api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'_'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"Invalid settings: {problems}") from None
