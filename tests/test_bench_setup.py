"""`./dev bench` creates its PostgreSQL database instead of skipping PostgreSQL without it."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import create_engine, make_url, text

from bench.datasets import ensure_pg_database, pg_available
from tests.conftest import PG_URL


@pytest.mark.postgres
def test_the_benchmark_creates_its_missing_database() -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    name = f"test_bench_created_{secrets.token_hex(4)}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        assert pg_available(url) is not None  # does not exist yet: what used to skip PostgreSQL
        assert ensure_pg_database(url) is True
        assert pg_available(url) is None
        assert ensure_pg_database(url) is False  # there now: left alone
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
