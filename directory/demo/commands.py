"""`aid-directory generate`: a deterministic synthetic directory for benchmarks."""

from __future__ import annotations

import sys
import time

import click


@click.command("generate")
@click.option(
    "--services",
    "count",
    required=True,
    type=click.IntRange(0, 10_000_000),
    help="how many services to generate",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="same seed, same data (ids and texts)"
)
def generate_cmd(count: int, seed: int) -> None:
    """Generate N fictional services (marked as demo) into DIRECTORY_DATABASE_URL, then reindex."""
    from directory.cli import friendly_errors

    friendly_errors(_generate)(count, seed)


def _generate(count: int, seed: int) -> None:
    from directory.cli import load_settings, open_engine, require_current_schema
    from directory.db import make_sessionmaker, refresh_statistics, session_scope
    from directory.demo.generate import generate
    from directory.errors import Conflict

    settings = load_settings()
    engine = open_engine(settings)
    require_current_schema(engine)
    started = time.perf_counter()
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            counts = generate(session, services=count, seed=seed)
            # the generator writes with Core statements: tell readers' caches and ETags
            from directory.listings.generation import bump

            bump(session)
        refresh_statistics(engine)
    except Conflict as exc:
        click.secho(f"Error: {exc.detail or exc}", fg="red", err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    took = time.perf_counter() - started
    click.echo(
        "Generated: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
        + f" in {took:.1f} s (seed {seed})."
    )
