"""`aid-directory alerts watch [--once]` and `aid-directory alerts status`: thin adapters."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click


def _setup() -> tuple[Any, Any, list[Any]]:
    from directory.alerts.sources import parse_feeds
    from directory.cli import load_settings, open_engine, require_current_schema
    from directory.db import make_sessionmaker
    from directory.logging import configure_logging

    settings = load_settings()
    feeds = parse_feeds(settings.alert_feeds)
    engine = open_engine(settings)
    require_current_schema(engine)
    configure_logging(settings.log_format)
    return settings, make_sessionmaker(engine), feeds


@click.group("alerts")
def alerts_group() -> None:
    """Official alert feeds (CAP 1.2, region-state JSON): watch them, show their health."""


@alerts_group.command("watch")
@click.option(
    "--once",
    is_flag=True,
    help="poll every feed once, apply what was found, and exit (exit 0 when every feed answered)",
)
def watch_cmd(once: bool) -> None:
    """Watch the feeds of DIRECTORY_ALERT_FEEDS and turn their alerts into notices.

    Safe to run on two hosts at once: each message is applied once."""
    from directory.alerts import watcher
    from directory.cli import friendly_errors

    @friendly_errors
    def run() -> None:
        settings, Session_, feeds = _setup()
        if not feeds:
            click.echo(
                "Error: no alert feeds configured\n"
                "Hint: set DIRECTORY_ALERT_FEEDS (one URL per line; see docs/alerts.md)",
                err=True,
            )
            sys.exit(2)
        if once:
            reports = watcher.poll_all(Session_, feeds, max_bytes=settings.alert_max_bytes)
            for line in watcher.iter_lines(reports):
                click.echo(line)
            sys.exit(0 if all(r.ok for r in reports) else 1)
        click.echo(f"watching {len(feeds)} alert feed(s) every {settings.alert_poll_seconds:g} s")
        watcher.watch(
            Session_,
            feeds,
            interval=settings.alert_poll_seconds,
            max_bytes=settings.alert_max_bytes,
        )

    run()


@alerts_group.command("status")
def status_cmd() -> None:
    """Each feed: when it last answered, failures in a row, the last error
    (exit 1 if one is stale)."""
    from directory.alerts import watcher
    from directory.cli import friendly_errors

    @friendly_errors
    def run() -> None:
        settings, Session_, feeds = _setup()
        with Session_() as session:
            rows = watcher.health(
                session, feeds, stale_after=dt.timedelta(seconds=settings.alert_stale_after_seconds)
            )
        for h in rows:
            last = h.last_success_at.isoformat(timespec="seconds") if h.last_success_at else "never"
            state = "STALE" if h.stale else "ok"
            click.echo(
                f"{state:5} {h.url}  last answer {last}, failures {h.failures}"
                + (f", last error: {h.last_error}" if h.last_error else "")
            )
        sys.exit(1 if any(h.stale for h in rows) else 0)

    run()
