"""Right after a bulk write the planner knows the data: `generate` (and import --publish, reindex,
restore, which call the same `refresh_statistics`) leaves every table analysed, on SQLite and on a
PostgreSQL database of its own (autovacuum would get there minutes later; until then searches were
planned from empty statistics: 0.7–1.5 s instead of 30–70 ms at 100,000 services)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from directory.migrate import upgrade
from tests.conftest import PG_URL

TABLES = ("service", "location", "service_search", "phone")


def _generate(url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "directory", "generate", "--services", "60", "--seed", "7"],
        env={"PATH": "/usr/bin:/bin", "DIRECTORY_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_sqlite_tables_are_analysed_after_generate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    upgrade(url)
    _generate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        analysed = {r[0] for r in conn.execute(text("SELECT tbl FROM sqlite_stat1"))}
    engine.dispose()
    assert set(TABLES) <= analysed


@pytest.fixture()
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    base = make_url(PG_URL)
    name = f"{base.database}_stats"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_tables_are_analysed_after_generate(pg_database: str) -> None:
    upgrade(pg_database)
    _generate(pg_database)
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT relname, last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL "
                    "FROM pg_stat_user_tables WHERE relname = ANY(:t)"
                ),
                {"t": list(TABLES)},
            ).all()
        )
        tuples = dict(
            conn.execute(
                text("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:t)"),
                {"t": list(TABLES)},
            ).all()
        )
    engine.dispose()
    assert rows == dict.fromkeys(TABLES, True)
    assert all(tuples[t] > 0 for t in TABLES), tuples  # -1 = never analysed
