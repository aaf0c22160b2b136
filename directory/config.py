"""Settings, read from `DIRECTORY_*` environment variables and passed explicitly to the app."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from directory.db import Timeouts

#: Locales the interface is translated into. Adding one = adding a catalog + a line here.
UI_LOCALES: tuple[str, ...] = ("en", "uk", "ru", "pl", "de", "ar")
RTL_LOCALES: frozenset[str] = frozenset({"ar", "he", "fa", "ur"})
#: Placeholder secret used only by `aid-directory demo`; `check` refuses it in production.
DEMO_SECRET_PREFIX = "demo-"  # noqa: S105 (a marker, not a secret)
#: Signs the readers' report forms when no secret key is set (`Settings.form_secret`).
UNSET_FORM_SECRET = "aid-directory-unset-secret"  # noqa: S105 (public on purpose)
#: Host names answered when DIRECTORY_ALLOWED_HOSTS is unset: this machine, and the name the test
#: client sends. None of them can point a link at someone else's server.
LOCAL_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]", "testserver")
#: A host name or IPv4 address, optionally `*.` in front (any subdomain); an IPv6 address in
#: brackets; or `*` alone (any host).
_HOST_PATTERN = re.compile(
    r"^(\*|\[[0-9a-f:.]+\]|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$"
)


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
    fallback_locales: str = Field(
        default="en",
        description="Comma-separated locales a listing text is shown in when it is missing in the "
        "reader's, in order, before its source language (docs/listings.md)",
    )
    timezone: str = Field(
        default="Europe/Kyiv", description="Default IANA time zone of new locations"
    )
    osm_mapping: str = Field(
        default="",
        description="`import --format osm`: a JSON file of OpenStreetMap tag → category rules "
        "instead of the shipped one (docs/exchange.md#openstreetmap)",
    )
    stale_after_days: int = Field(default=30, ge=1, le=3650)
    base_url: str = Field(default="", description="Public origin, e.g. https://help.example.org")
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names this site answers for "
        "(like Django's ALLOWED_HOSTS); "
        "`*.example.org` = any subdomain. Unset: the host of base_url and the local names",
    )
    https: bool = Field(
        default=False, description="Served over HTTPS (enables HSTS, Secure cookies)"
    )
    debug: bool = False
    log_format: Literal["text", "json"] = "text"
    demo: bool = Field(
        default=False, description="Set by `aid-directory demo`; marks the site as a demo"
    )
    trusted_volunteers_publish: bool = Field(
        default=False,
        description="Let trusted volunteers publish status/capacity updates at once "
        "(still reviewed)",
    )
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    workers: int = 1
    threads: int = Field(
        default=0, ge=0, le=256, description="Request threads per worker; 0 = automatic"
    )
    alert_feeds: str = Field(
        default="",
        description="Official alert feeds to watch, one per line (docs/alerts.md): "
        "a CAP message or "
        "an Atom/RSS index of them, or `state URL mapping=NAME|FILE` for a region-state JSON feed",
    )
    alert_poll_seconds: float = Field(default=30.0, ge=2.0, le=3600.0)
    alert_stale_after_seconds: float = Field(
        default=180.0,
        ge=10.0,
        description="A feed silent this long: pages say the alert status is unknown",
    )
    alert_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    database_replica_urls: str = Field(
        default="",
        description="Comma-separated PostgreSQL URLs of streaming read replicas: "
        "anonymous reads go "
        'there, everything else to database_url (docs/deploying.md, "Read replicas")',
    )
    replica_max_lag_seconds: float = Field(
        default=5.0, ge=0, le=3600, description="A replica further behind than this is skipped"
    )
    replica_check_seconds: float = Field(
        default=2.0, gt=0, le=600, description="How often a replica's health and lag are checked"
    )
    database_pooler: Literal["none", "pgbouncer"] = Field(
        default="none",
        description="`pgbouncer`: the database URL points at PgBouncer in transaction pooling mode "
        "(no server-side prepared statements, per-transaction timeouts)",
    )
    # Maps (docs/maps.md): a base map from the directory's own origin, or none (the shipped
    # country outlines); a third-party tile server only when an operator names one.
    map_pmtiles: str = Field(
        default="",
        description="Path of a PMTiles archive (a regional extract) served from this origin at "
        "/map/tiles.pmtiles as the interactive map's base map; empty = shipped outlines only",
    )
    map_tile_url: str = Field(
        default="",
        description="A THIRD-PARTY raster tile URL template (https://…/{z}/{x}/{y}.png): readers' "
        "browsers then ask that server for tiles; shown on the privacy page. Empty = none",
    )
    map_tile_attribution: str = Field(
        default="", description="Attribution text of DIRECTORY_MAP_TILE_URL's tiles"
    )
    # Bounds on the served app's database waits (docs/security.md, "Overload and lock safety").
    db_statement_timeout: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Seconds one SQL statement of a request may run (PostgreSQL); 0 = no limit",
    )
    db_lock_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a request waits for a lock "
        "(PostgreSQL lock_timeout, SQLite busy timeout)",
    )
    db_idle_in_transaction_timeout: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Seconds a transaction may sit idle before PostgreSQL ends it; 0 = no limit",
    )
    db_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a request waits for a database connection",
    )

    @field_validator("fallback_locales")
    @classmethod
    def _locale_list(cls, value: str) -> str:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        for code in codes:
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", code):
                raise ValueError(f"{code!r} is not a locale code such as en or uk")
        return ",".join(codes)

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if value and (
            not value.startswith("https://") or not all(k in value for k in ("{z}", "{x}", "{y}"))
        ):
            raise ValueError("must be an https:// URL template with {z}, {x} and {y}")
        return value

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

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: str) -> str:
        for host in _split_hosts(value):
            if not _HOST_PATTERN.match(host):
                raise ValueError(
                    f"{host!r} is not a host name: give names only, without scheme, port or path "
                    "(e.g. help.example.org,*.example.org)"
                )
        return value

    @property
    def trusted_hosts(self) -> list[str]:
        """The host names requests may carry (others are refused with 400): DIRECTORY_ALLOWED_HOSTS,
        or when it is unset the local names; the host of DIRECTORY_BASE_URL in both cases."""
        hosts = _split_hosts(self.allowed_hosts) or list(LOCAL_HOSTS)
        base = urlsplit(self.base_url).hostname if self.base_url else None
        if base and ":" in base:
            base = f"[{base}]"  # IPv6, as the Host header writes it
        if base and base not in hosts:
            hosts.append(base)
        return hosts

    @property
    def db_timeouts(self) -> Timeouts:
        return Timeouts(
            statement=self.db_statement_timeout,
            lock=self.db_lock_timeout,
            idle_in_transaction=self.db_idle_in_transaction_timeout,
            pool=self.db_pool_timeout,
        )

    @property
    def replica_urls(self) -> list[str]:
        return [u.strip() for u in self.database_replica_urls.split(",") if u.strip()]

    @property
    def form_secret(self) -> str:
        """What signs the readers' report forms: DIRECTORY_SECRET_KEY, or without one (the demo,
        tests; `aid-directory check` refuses to serve so) a fixed stand-in."""
        return self.secret_key or UNSET_FORM_SECRET

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)


def _split_hosts(value: str) -> list[str]:
    return [h.strip().lower().rstrip(".") for h in value.split(",") if h.strip()]


class ConfigError(Exception):
    """An expected configuration problem, reported as one line with a hint (never a traceback)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint
