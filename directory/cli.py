"""The `aid-directory` command line. Thin: parse, call the domain, print.

Expected failures (bad configuration, unreachable database, schema behind the code, port in use)
print one line and a hint, and exit 2 — never a traceback.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from directory.config import DEMO_SECRET_PREFIX, ConfigError, Settings
from directory.db import make_engine, make_sessionmaker, session_scope

# Each command imports what it needs when it runs, and the commands defined elsewhere are
# imported when they are called (`_Commands`): `aid-directory export` does not load Alembic's
# migrations runner, the demo loader, the alert watcher or an HTTP client (0.7 s of CPU).

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn expected failures into a one-line message with a hint."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "DIRECTORY_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(
            f"{field}: {err['msg']}", "see the configuration table in README.md"
        ) from None


def open_engine(settings: Settings) -> Engine:
    """Create the engine and prove the database answers, with a clear error if it does not."""

    url = settings.database_url
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(
            f"DIRECTORY_DATABASE_URL is not a database URL we understand ({type(exc).__name__})",
            "use sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/name",
        ) from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise ConfigError(
            f"cannot reach the database: {reason}",
            "check DIRECTORY_DATABASE_URL and that the database server is running",
        ) from None
    return engine


def require_current_schema(engine: Engine) -> None:
    from directory.schema_head import schema_is_current

    if schema_is_current(engine):  # without Alembic (~0.4 s of CPU to import and load)
        return
    from directory.migrate import current_revision, head_revision

    try:
        current = current_revision(engine)
    except SQLAlchemyError:
        current = None
    if current != head_revision():
        raise ConfigError(
            "the database schema is behind this version of aid-directory"
            + (" (empty database)" if current is None else f" (at {current})"),
            "run `aid-directory migrate`",
        )


def require_secret(settings: Settings) -> None:
    if not settings.secret_key:
        raise ConfigError(
            "DIRECTORY_SECRET_KEY is not set",
            'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"',
        )


def require_free_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise ConfigError(
                f"port {port} on {host} is already in use",
                "stop the other program or choose another port with --port",
            ) from None


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _Commands(click.Group):
    """The commands defined in other modules, imported when called (or listed by --help)."""

    LAZY: dict[str, tuple[str, str]] = {
        "user": ("directory.accounts.commands", "user_group"),
        "token": ("directory.accounts.commands", "token_group"),
        "check": ("directory.ops_commands", "check"),
        "backup": ("directory.ops_commands", "backup_cmd"),
        "restore": ("directory.ops_commands", "restore_cmd"),
        "export": ("directory.exchange.commands", "export_cmd"),
        "import": ("directory.exchange.commands", "import_cmd"),
        "generate": ("directory.demo.commands", "generate_cmd"),
        "reindex": ("directory.search.commands", "reindex_cmd"),
        "alerts": ("directory.alerts.commands", "alerts_group"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.LAZY:
            import importlib

            module, name = self.LAZY[cmd_name]
            command = getattr(importlib.import_module(module), name)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aid-directory")
def main() -> None:
    """aid-directory: a moderated directory of aid services and shelters.

    Configuration comes from DIRECTORY_* environment variables (see README.md).
    """


@main.command()
@friendly_errors
def migrate() -> None:
    """Upgrade the database schema to the newest migration."""
    from directory.migrate import upgrade

    settings = load_settings()
    open_engine(settings).dispose()
    upgrade(settings.database_url)
    click.echo("Database schema is up to date.")


@main.command("load-demo")
@click.option(
    "--demo-accounts",
    is_flag=True,
    help="also create the demo accounts (published passwords; `check` refuses them "
    "outside demo mode)",
)
@friendly_errors
def load_demo_cmd(demo_accounts: bool) -> None:
    """Load the fictional demo dataset (marked as demo wherever it is shown)."""
    from directory.demo.accounts import ensure_demo_accounts, sign_in_help
    from directory.demo.loader import load_demo

    settings = load_settings()
    engine = open_engine(settings)
    require_current_schema(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        counts = load_demo(session)
        if demo_accounts:
            ensure_demo_accounts(session)
    click.echo("Demo data loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if demo_accounts:
        click.echo(sign_in_help(settings.base_url.rstrip("/") + "/" if settings.base_url else "/"))
        if not settings.demo:
            click.echo(
                "Warning: demo accounts in a database not run as a demo: `aid-directory "
                "check` reports them; they need TOTP here like any other account."
            )


def _serve(settings: Settings, host: str, port: int, workers: int, *, banner: str = "") -> None:
    import uvicorn

    require_free_port(host, port)
    # Workers are separate processes: they rebuild Settings from the environment.
    for key, value in settings.model_dump().items():
        if value is not None:
            os.environ[f"DIRECTORY_{key.upper()}"] = str(value)
    os.environ["DIRECTORY_WORKERS"] = str(workers)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    click.echo(banner + f"Serving on http://{shown}:{port}/  (Ctrl+C to stop)", err=False)
    sys.stdout.flush()
    uvicorn.run(
        "directory.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=False,  # our own middleware logs requests without IPs or queries
        log_level="info",
        server_header=False,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--threads",
    type=click.IntRange(0, 256),
    default=None,
    help="request threads per worker (default: DIRECTORY_THREADS, 0 = automatic)",
)
@friendly_errors
def serve(host: str, port: int, workers: int, threads: int | None) -> None:
    """Serve the directory (production: put a reverse proxy with HTTPS in front)."""
    settings = load_settings(threads=threads)
    require_secret(settings)
    engine = open_engine(settings)
    require_current_schema(engine)
    engine.dispose()
    _serve(settings, host, port, workers)


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="default: 8000, or a free one")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file to create (replaced if it exists) [default: var/demo.db, or "
    "var/demo-2.db, ... while other demos run]",
)
@friendly_errors
def demo(port: int | None, db_path: str | None) -> None:
    """Create a new SQLite demo database, load the demo data and serve it on 127.0.0.1."""
    from directory.demo.accounts import ensure_demo_accounts, sign_in_help
    from directory.demo.instance import DemoInUse, claim
    from directory.demo.loader import load_demo
    from directory.demo.proposals import ensure_demo_proposals
    from directory.migrate import upgrade

    try:
        # held until this process ends: a second demo never rebuilds this one's database
        held = claim(Path(db_path or "var/demo.db"), explicit=db_path is not None)
    except DemoInUse as exc:
        raise ConfigError(
            str(exc), "stop that demo first, or choose another file with --db"
        ) from None
    for other in held.others:
        click.echo(f"Another demo is running ({other}); this one uses {held.path}.")
    path = held.path
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    settings = load_settings(
        database_url=url,
        secret_key=DEMO_SECRET_PREFIX + secrets.token_urlsafe(32),
        demo=True,
    )
    upgrade(url)
    engine = open_engine(settings)
    with session_scope(make_sessionmaker(engine)) as session:
        counts = load_demo(session)
        ensure_demo_accounts(session)
        ensure_demo_proposals(session)  # the Kyiv moderator's queue is not empty
    engine.dispose()
    click.echo(
        "Demo database: "
        + str(path)
        + " ("
        + ", ".join(f"{n} {k}" for k, n in counts.items())
        + ")"
    )
    host = "127.0.0.1"
    if port is None:
        port = 8000
        try:
            if held.others:  # the other demo may not listen yet: never race it for 8000
                raise ConfigError("another demo runs")
            require_free_port(host, port)
        except ConfigError:
            port = free_port(host)
    held.announce(f"http://{host}:{port}/")
    click.echo(sign_in_help(f"http://{host}:{port}/"))
    _serve(settings, host, port, 1, banner="Demo ready. Open this address in a browser:\n")


if __name__ == "__main__":
    main()
