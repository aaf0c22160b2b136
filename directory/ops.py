"""Operations: the production-readiness check, backups and restores, for SQLite and PostgreSQL.

- `deploy_checks(settings)` lists unsafe production settings, like Django's `check --deploy`.
- `backup(settings, dest)`: SQLite through the online backup API (a consistent snapshot of a live
  database, never a file copy, which could catch a half-written page or miss the WAL); PostgreSQL
  through `pg_dump --format=custom` (consistent: one repeatable-read transaction).
- `restore(settings, src)`: refuses a damaged file or one from an unknown schema revision, then
  swaps it in atomically. SQLite: the file is first copied into a temporary database next to the
  live one and checked (`PRAGMA integrity_check`, revision known to the migrations), then copied
  into the live database with the backup API in ONE step: one write transaction, so running app
  processes see either the old or the new database, never a mix, and need no restart. PostgreSQL:
  `pg_restore --clean --if-exists --single-transaction` (all or nothing).

Backups are written to `<dest>.partial` and renamed when complete, so a crash never leaves a
file that looks like a finished backup.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from directory.alerts.sources import parse_feeds
from directory.alerts.watcher import health
from directory.config import DEMO_SECRET_PREFIX, ConfigError, Settings
from directory.db import make_engine
from directory.migrate import current_revision, head_revision

#: Secrets that appear in docs, examples and tutorials: never acceptable in production.
KNOWN_BAD_SECRETS = frozenset(
    {
        "secret",
        "changeme",
        "change-me",
        "change_me",
        "development",
        "dev",
        "test",
        "password",
        "insecure",
        "default",
        "example",
        "replace-me",
        "xxx",
    }
)
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Finding:
    """One result of `deploy_checks`. `level` is "error" (unsafe) or "warning" (look at it)."""

    id: str
    level: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.id} {self.level.upper()}: {self.message}" + (
            f"\n    HINT: {self.hint}" if self.hint else ""
        )


def deploy_checks(
    settings: Settings, *, workers: int | None = None, engine: Engine | None = None
) -> list[Finding]:
    """Unsafe or suspicious production settings. `engine` (optional) adds the database checks."""
    out: list[Finding] = []
    workers = workers if workers is not None else settings.workers
    secret = settings.secret_key or ""
    if not secret:
        out.append(
            Finding(
                "directory.E001",
                "error",
                "DIRECTORY_SECRET_KEY is not set",
                'generate one: python3 -c "import secrets; print(secrets.token_urlsafe(48))"',
            )
        )
    elif secret.startswith(DEMO_SECRET_PREFIX) or secret.lower().strip("-_ ") in KNOWN_BAD_SECRETS:
        out.append(
            Finding(
                "directory.E002",
                "error",
                "DIRECTORY_SECRET_KEY is a demo or example value",
                "generate a new random secret for this installation",
            )
        )
    elif len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 10:
        out.append(
            Finding(
                "directory.E003",
                "error",
                f"DIRECTORY_SECRET_KEY is too short or too simple (needs {MIN_SECRET_LENGTH}+ "
                "random characters)",
                'generate one: python3 -c "import secrets; print(secrets.token_urlsafe(48))"',
            )
        )
    if settings.debug:
        out.append(
            Finding(
                "directory.E004",
                "error",
                "DIRECTORY_DEBUG is on",
                "debug output can reveal code and data; unset DIRECTORY_DEBUG",
            )
        )
    if settings.is_sqlite and workers > 1:
        out.append(
            Finding(
                "directory.E005",
                "error",
                f"SQLite with {workers} worker processes",
                "SQLite allows one writer at a time on one host: use --workers 1, or move "
                "to PostgreSQL for several workers or hosts (docs/deploying.md)",
            )
        )
    if settings.is_sqlite and make_url(settings.database_url).database in (None, "", ":memory:"):
        out.append(
            Finding(
                "directory.E006",
                "error",
                "SQLite in memory: every restart loses all data",
                "set DIRECTORY_DATABASE_URL=sqlite:////var/lib/aid-directory/directory.db",
            )
        )
    if not settings.https:
        out.append(
            Finding(
                "directory.W001",
                "warning",
                "DIRECTORY_HTTPS is off: no HSTS and no Secure cookies",
                "serve through a reverse proxy with HTTPS and set DIRECTORY_HTTPS=true",
            )
        )
    if not settings.base_url:
        out.append(
            Finding(
                "directory.W002",
                "warning",
                "DIRECTORY_BASE_URL is not set",
                "set the public origin, e.g. https://help.example.org (sitemap, links)",
            )
        )
    elif not settings.base_url.startswith("https://"):
        out.append(
            Finding(
                "directory.W003",
                "warning",
                f"DIRECTORY_BASE_URL is not https: {settings.base_url}",
                "publish the directory over HTTPS only",
            )
        )
    out.extend(_host_checks(settings))
    if settings.demo:
        out.append(
            Finding(
                "directory.W004",
                "warning",
                "demo mode is on (pages say so)",
                "unset DIRECTORY_DEMO in production",
            )
        )
    if os.environ.get("FORWARDED_ALLOW_IPS", "").strip() == "*":
        out.append(
            Finding(
                "directory.W005",
                "warning",
                "FORWARDED_ALLOW_IPS=* trusts X-Forwarded-* from anyone",
                "list only the reverse proxy's address",
            )
        )
    path = settings.sqlite_path
    if path is not None and path.exists() and path.stat().st_mode & 0o007:
        out.append(
            Finding(
                "directory.W006",
                "warning",
                f"the database file {path} is readable by every user of the host",
                f"chmod 600 {path} (and its -wal/-shm files)",
            )
        )
    try:
        parse_feeds(settings.alert_feeds)
    except ConfigError as exc:
        out.append(Finding("directory.E020", "error", str(exc), exc.hint))
    if engine is not None:
        database = _database_checks(engine)
        out.extend(database)
        if not database:
            out.extend(demo_account_checks(settings, engine))
            out.extend(_alert_feed_checks(settings, engine))
    return out


def demo_account_checks(settings: Settings, engine: Engine) -> list[Finding]:
    """The demo's published accounts (known passwords, no second factor in a demo) belong in a
    demo database only: in any other they are a door with its key on the README."""
    if settings.demo:
        return []

    from directory.demo.accounts import demo_accounts_in

    with Session(engine) as session:
        found = demo_accounts_in(session)
    if not found:
        return []
    return [
        Finding(
            "directory.E030",
            "error",
            f"demo accounts with published passwords in this database: {', '.join(found)}",
            "disable each (`aid-directory user disable EMAIL`), or run this database only "
            "as a demo (DIRECTORY_DEMO=true)",
        )
    ]


def _alert_feed_checks(settings: Settings, engine: Engine) -> list[Finding]:
    """Each configured alert feed has answered recently (`aid-directory alerts watch` runs)."""

    from sqlalchemy.orm import Session

    from directory.alerts.sources import parse_feeds

    feeds = parse_feeds(settings.alert_feeds)
    if not feeds:
        return []
    out = []
    with Session(engine) as session:
        for h in health(
            session, feeds, stale_after=dt.timedelta(seconds=settings.alert_stale_after_seconds)
        ):
            if h.stale:
                last = (
                    h.last_success_at.isoformat(timespec="seconds")
                    if h.last_success_at
                    else "never"
                )
                out.append(
                    Finding(
                        "directory.W020",
                        "warning",
                        f"alert feed {h.url} has not answered recently (last answer: {last}"
                        + (f"; last error: {h.last_error}" if h.last_error else "")
                        + "); pages say the alert "
                        "status is unknown",
                        "run `aid-directory alerts watch` "
                        "(deploy/systemd/aid-directory-alerts.service)",
                    )
                )
    return out


def _host_checks(settings: Settings) -> list[Finding]:
    hosts = settings.trusted_hosts
    # `*` answers any Host; `*.org` nearly so (a wildcard needs at least two labels after it).
    too_wide = [h for h in hosts if h == "*" or (h.startswith("*.") and h.count(".") < 2)]
    if too_wide:
        return [
            Finding(
                "directory.E007",
                "error",
                f"DIRECTORY_ALLOWED_HOSTS is too wide: {', '.join(too_wide)}",
                "list the public host names only, e.g. help.example.org: with any other "
                "Host the site would build links and its sitemap for that host",
            )
        ]
    if not settings.allowed_hosts.strip():
        return [
            Finding(
                "directory.W007",
                "warning",
                "DIRECTORY_ALLOWED_HOSTS is not set: only "
                + ", ".join(hosts)
                + " are answered, other host names get 400",
                "set it to the public host names, e.g. help.example.org",
            )
        ]
    return []


def _database_checks(engine: Engine) -> list[Finding]:

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return [
            Finding(
                "directory.E010",
                "error",
                f"the database does not answer: {reason}",
                "check DIRECTORY_DATABASE_URL and that the server runs",
            )
        ]
    if current != head_revision():
        return [
            Finding(
                "directory.E011",
                "error",
                f"the database schema is behind (at {current or 'nothing'}, "
                f"code expects {head_revision()})",
                "run `aid-directory migrate`",
            )
        ]
    return []


# --- backup -----------------------------------------------------------------------------------


def backup(settings: Settings, dest: Path) -> Path:
    """Write a consistent backup of the configured database to `dest`; returns `dest`."""
    dest = Path(dest)
    if dest.exists() and dest.is_dir():
        raise ConfigError(f"{dest} is a directory", "give a file name, e.g. backup-2026-01-31.db")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    # Owner-only from the first byte: a backup holds confidential addresses and accounts.
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        if settings.is_sqlite:
            _sqlite_backup(_live_sqlite_path(settings), partial)
        else:
            _pg_dump(settings.database_url, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def _live_sqlite_path(settings: Settings) -> Path:
    path = settings.sqlite_path
    if path is None:
        raise ConfigError(
            "an in-memory SQLite database cannot be backed up or restored",
            "set DIRECTORY_DATABASE_URL to a file",
        )
    if not path.exists():
        raise ConfigError(
            f"the database file {path} does not exist", "check DIRECTORY_DATABASE_URL"
        )
    return path


def _sqlite_connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy with the online backup API in one step (a consistent snapshot), then verify it."""
    src = _sqlite_connect(source)
    dst = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, under one read transaction on the source: a
        # snapshot even while other processes write (WAL lets them go on meanwhile).
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    finally:
        dst.close()
        src.close()
    verify_sqlite(target)


def verify_sqlite(path: Path) -> str | None:
    """Check a SQLite file: readable, `PRAGMA integrity_check` ok, schema revision known.

    Returns its schema revision; raises ConfigError otherwise.
    """
    if not path.is_file():
        raise ConfigError(f"{path} does not exist", "give the path of a backup file")
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ConfigError(
                f"{path} is not a SQLite database",
                "for PostgreSQL, restore a pg_dump file with DIRECTORY_DATABASE_URL "
                "set to the PostgreSQL database",
            )
    try:
        conn = _sqlite_connect(path, readonly=True)
        try:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            fk = conn.execute("PRAGMA foreign_key_check").fetchall()
            try:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError:
                row = None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path} is damaged: {exc}", "use another backup") from None
    if problems != ["ok"]:
        raise ConfigError(
            f"{path} failed the integrity check: {'; '.join(problems[:3])}", "use another backup"
        )
    if fk:
        raise ConfigError(
            f"{path} has {len(fk)} broken references (foreign_key_check)", "use another backup"
        )
    revision = row[0] if row else None
    _check_revision(revision, path)
    return revision


def _check_revision(revision: str | None, where: object) -> None:
    from alembic.script import ScriptDirectory

    from directory.migrate import alembic_config

    if revision is None:
        raise ConfigError(
            f"{where} holds no aid-directory schema (no alembic_version)",
            "is this a backup made by `aid-directory backup`?",
        )
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise ConfigError(
            f"{where} is at schema revision {revision}, unknown to this version of aid-directory",
            "restore it with the aid-directory version that made it (or a newer one)",
        )


def _pg_env_and_target(url: str) -> tuple[dict[str, str], list[str]]:
    """libpq connection settings as environment variables (the password never on a command line)."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    for key, value in (
        ("PGHOST", u.host),
        ("PGPORT", u.port),
        ("PGUSER", u.username),
        ("PGDATABASE", u.database),
    ):
        if value:
            env[key] = str(value)
    sslmode = u.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env, ["--dbname", u.database or ""]


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if not tool:
        raise ConfigError(
            f"{name} is not installed",
            "install the PostgreSQL client tools (Debian: apt-get install "
            "postgresql-client), same major version as the server or newer",
        )
    return tool


def _run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise ConfigError(
            f"{Path(cmd[0]).name}: {first}",
            "check DIRECTORY_DATABASE_URL and the PostgreSQL client version",
        )
    return proc.stdout


def _pg_dump(url: str, target: Path) -> None:
    env, db = _pg_env_and_target(url)
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target),
            *db,
        ],
        env,
    )
    _pg_verify_archive(target, env)


def _pg_verify_archive(path: Path, env: dict[str, str]) -> str | None:
    """The archive is readable by pg_restore and holds a known schema revision (returned)."""
    listing = _run([_pg_tool("pg_restore"), "--list", str(path)], env)
    if "alembic_version" not in listing:
        raise ConfigError(
            f"{path} holds no aid-directory schema (no alembic_version)",
            "is this a dump made by `aid-directory backup`?",
        )
    data = _run(
        [_pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        env,
    )
    lines = data.splitlines()
    revision = None
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            revision = None if lines[i + 1] == "\\." else lines[i + 1].strip()
    _check_revision(revision, path)
    return revision


# --- restore ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    revision: str | None
    needs_migrate: bool


def restore(settings: Settings, source: Path) -> RestoreResult:
    """Verify `source`, then replace the configured database's content with it, atomically."""

    source = Path(source)
    if settings.is_sqlite:
        revision = _sqlite_restore(source, settings)
    else:
        revision = _pg_restore(source, settings.database_url)
    return RestoreResult(revision=revision, needs_migrate=revision != head_revision())


def _sqlite_restore(source: Path, settings: Settings) -> str | None:
    verify_sqlite(source)
    live = settings.sqlite_path
    if live is None:
        raise ConfigError(
            "an in-memory SQLite database cannot be restored into",
            "set DIRECTORY_DATABASE_URL to a file",
        )
    live.parent.mkdir(parents=True, exist_ok=True)
    # 1. Copy into a temporary database next to the live one (same file system) and check the
    #    copy, so that nothing touches the live database unless the new content is sound.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{live.name}.restore-", dir=live.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _sqlite_backup(source, tmp)
        revision = verify_sqlite(tmp)
        if not live.exists():
            os.replace(tmp, live)  # nothing to swap with
            return revision
        # 2. Swap: the backup API writes the whole new content into the live database in one
        #    write transaction (it waits for running writers; readers keep their snapshot).
        #    Running app processes need no restart and never see half a restore.
        src = _sqlite_connect(tmp, readonly=True)
        dst = _sqlite_connect(live)
        try:
            src.backup(dst, pages=-1)
            result = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
            src.close()
        if result is None or result[0] != "ok":
            raise ConfigError(
                f"{live} failed the integrity check after the restore",
                "restore again from the backup file",
            )
        return revision
    finally:
        tmp.unlink(missing_ok=True)


def _pg_restore(source: Path, url: str) -> str | None:
    env, db = _pg_env_and_target(url)
    if not source.is_file():
        raise ConfigError(f"{source} does not exist", "give the path of a backup file")
    with open(source, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise ConfigError(
                f"{source} is not a pg_dump custom-format archive",
                "make backups with `aid-directory backup` (pg_dump --format=custom)",
            )
    _pg_verify_archive(source, env)  # readable, known revision: before anything is touched
    # --single-transaction: all or nothing; --clean --if-exists: replace what the dump contains.
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *db,
            str(source),
        ],
        env,
    )

    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    _check_revision(revision, "the restored database")
    return revision
