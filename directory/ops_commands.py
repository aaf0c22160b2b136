"""`aid-directory check`, `backup FILE` and `restore FILE` (thin: parse, call directory.ops,
print)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from directory.cli import friendly_errors, load_settings, open_engine
from directory.db import make_engine, refresh_statistics
from directory.ops import (
    _database_checks,
    backup,
    demo_account_checks,
    deploy_checks,
    restore,
    verify_sqlite,
)


@click.command()
@click.option(
    "--deploy/--no-deploy",
    default=True,
    show_default=True,
    help="include the production checks (secret, HTTPS, workers, debug)",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="the number of app processes you plan to run (default: DIRECTORY_WORKERS)",
)
@click.option(
    "--fail-level",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="exit 1 when a finding of this level (or worse) is found",
)
@friendly_errors
def check(deploy: bool, workers: int | None, fail_level: str) -> None:
    """Report unsafe production settings (like Django's `check --deploy`) and database state."""

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        if deploy:
            findings = deploy_checks(settings, workers=workers, engine=engine)
        else:
            findings = _database_checks(engine)
            findings = findings or demo_account_checks(settings, engine)
    finally:
        engine.dispose()
    for finding in findings:
        click.secho(str(finding), fg="red" if finding.level == "error" else "yellow")
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(
        f"System check identified {len(findings)} issue(s): "
        f"{errors} error(s), {warnings} warning(s)."
    )
    if errors or (fail_level == "warning" and warnings):
        sys.exit(1)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@friendly_errors
def backup_cmd(file: Path) -> None:
    """Write a consistent backup of the live database to FILE.

    SQLite: the online backup API (safe while the server runs). PostgreSQL: pg_dump in custom
    format (restore it with `aid-directory restore`, or pg_restore).
    """

    settings = load_settings()
    open_engine(settings).dispose()
    out = backup(settings, file)
    click.echo(f"Backup written: {out} ({out.stat().st_size} bytes)")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@friendly_errors
def restore_cmd(file: Path, yes: bool) -> None:
    """Check FILE (integrity, schema revision), then replace the database's content with it.

    Everything written since the backup is lost. The swap is atomic: app processes may keep
    running (SQLite) and see the old or the new content, never a mix.
    """

    settings = load_settings()
    if settings.is_sqlite:
        verify_sqlite(file)  # before asking: a bad file is refused without a question
    target = settings.sqlite_path or settings.database_url.rsplit("/", 1)[-1]
    if not yes:
        click.confirm(f"Replace ALL data in {target} with {file}?", abort=True)
    result = restore(settings, file)

    engine = make_engine(settings.database_url)
    try:
        refresh_statistics(engine)  # a restored database is a bulk write too
    finally:
        engine.dispose()
    click.echo(f"Restored {file} into {target} (schema revision {result.revision}).")
    if result.needs_migrate:
        click.echo("The backup is from an older version: run `aid-directory migrate` now.")


def register_ops(group: click.Group) -> None:
    for command in (check, backup_cmd, restore_cmd):
        group.add_command(command)
