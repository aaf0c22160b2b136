"""`./dev bench` creates its PostgreSQL database instead of skipping PostgreSQL without it."""

from __future__ import annotations

import secrets
import subprocess
import sys

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


def test_the_bench_modules_the_tests_use_import_without_the_bench_extras() -> None:
    """CI installs only the test extras: a bench module the tests import (bench.shape for the nginx
    test, bench.datasets here) must not pull in psutil, matplotlib or datasette. A venv that once
    ran `./dev bench` has them, which hid exactly this from a local run."""
    code = (
        "import sys\n"
        "for name in ('psutil', 'matplotlib', 'datasette', 'locust'):\n"
        "    sys.modules[name] = None  # import of it raises ImportError\n"
        "import bench.shape, bench.datasets, bench.net, bench.pgclusters\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
