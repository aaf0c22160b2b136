"""Settings, read from `DIRECTORY_*` environment variables and passed explicitly to the app."""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Locales the interface is translated into. Adding one = adding a catalog + a line here.
UI_LOCALES: tuple[str, ...] = ("en", "uk", "ru", "pl", "de", "ar")
RTL_LOCALES: frozenset[str] = frozenset({"ar", "he", "fa", "ur"})
#: Placeholder secret used only by `aid-directory demo`; `check` refuses it in production.
DEMO_SECRET_PREFIX = "demo-"  # noqa: S105 (a marker, not a secret)


class Settings(BaseSettings):
    """All configuration of one running directory. Construct it once and hand it to `create_app`."""

    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///aid-directory.db",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db",
    )
    secret_key: str | None = Field(
        default=None, description="Signs sessions and CSRF tokens. Required outside the demo."
    )
    default_locale: str = "en"
    timezone: str = Field(default="Europe/Kyiv", description="Default IANA time zone of new locations")
    stale_after_days: int = Field(default=30, ge=1, le=3650)
    base_url: str = Field(default="", description="Public origin, e.g. https://help.example.org")
    https: bool = Field(default=False, description="Served over HTTPS (enables HSTS, Secure cookies)")
    debug: bool = False
    log_format: Literal["text", "json"] = "text"
    demo: bool = Field(default=False, description="Set by `aid-directory demo`; marks the site as a demo")
    trusted_volunteers_publish: bool = Field(
        default=False,
        description="Let trusted volunteers publish status/capacity updates at once (still reviewed)",
    )
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    workers: int = 1
    threads: int = Field(default=0, ge=0, le=256, description="Request threads per worker; 0 = automatic")

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in UI_LOCALES:
            raise ValueError(f"must be one of {', '.join(UI_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)


class ConfigError(Exception):
    """An expected configuration problem, reported as one line with a hint (never a traceback)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint
