"""A freshly migrated database whose commits are real, for tests that run servers, CLI
processes or several connections: a new SQLite file, or a scratch schema of the PostgreSQL test
database reached through search_path (the suite's own schema, shared by the other tests, is
not touched). Use: `from tests.scratch import scratch_database  # noqa: F401` in a test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from directory.db import make_engine
from directory.migrate import upgrade
from tests.conftest import PG_URL

SCRATCH_SCHEMA = "scratch_live"


def _with_path(path: str) -> str:
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={path}"})
    return url.render_as_string(hide_password=False)


def _scratch_schema(*, create: bool) -> None:
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE"))
        if create:
            conn.execute(text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a freshly migrated database (per backend)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scratch.db'}"
        upgrade(url)
        yield url
        return
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    _scratch_schema(create=True)
    try:
        # Migrate with the scratch schema alone on the path (else Alembic would find the
        # suite's alembic_version in public), then run with public behind it (extensions).
        upgrade(_with_path(SCRATCH_SCHEMA))
        yield _with_path(f"{SCRATCH_SCHEMA},public")
    finally:
        _scratch_schema(create=False)
