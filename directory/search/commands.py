"""`aid-directory reindex`: rebuild the search index (after a migration that changes it, or to
repair it). Writers keep it current on their own; this is the full rebuild."""

from __future__ import annotations

import time

import click


@click.command("reindex")
def reindex_cmd() -> None:
    """Rebuild the search index of every service from the listings."""
    from directory.cli import friendly_errors

    friendly_errors(_reindex)()


def _reindex() -> None:
    from directory.cli import load_settings, open_engine, require_current_schema
    from directory.db import make_sessionmaker, session_scope
    from directory.search.index import reindex_all

    settings = load_settings()
    engine = open_engine(settings)
    require_current_schema(engine)
    started = time.perf_counter()
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            count = reindex_all(session)
    finally:
        engine.dispose()
    click.echo(f"Indexed {count} services in {time.perf_counter() - started:.1f} s.")
