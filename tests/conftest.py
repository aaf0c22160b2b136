"""Test fixtures: one engine and one app per database backend for the whole session; every test
runs inside a transaction that is rolled back (the app's commits become savepoint releases).

Backends: SQLite always; PostgreSQL when DIRECTORY_TEST_DATABASE_URL is set. The suite refuses a
database whose name does not contain "test". With DIRECTORY_REQUIRE_POSTGRES=1 or
DIRECTORY_REQUIRE_BROWSER=1 (CI sets both) the run fails if those tests did not run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from directory.app import create_app
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker
from directory.deps import get_session
from directory.migrate import upgrade

PG_URL = os.environ.get("DIRECTORY_TEST_DATABASE_URL", "")
# Under pytest-xdist (`-n 2`: one test process per core) each worker gets its own PostgreSQL
# database, "<name>_gw0", "<name>_gw1", ...: the suite drops and recreates its schema, and the
# databases the tests derive from this name (…_stats, …_shape, …_bouncer) then differ per worker.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if PG_URL and WORKER:
    PG_URL = (
        make_url(PG_URL)
        .set(database=f"{make_url(PG_URL).database}_{WORKER}")
        .render_as_string(hide_password=False)
    )
REQUIRE_PG = os.environ.get("DIRECTORY_REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("DIRECTORY_REQUIRE_BROWSER") == "1"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

_ran: dict[str, int] = {"postgresql": 0, "browser": 0}


def pytest_configure(config: pytest.Config) -> None:
    if PG_URL:
        name = make_url(PG_URL).database or ""
        if "test" not in name:
            raise pytest.UsageError(
                f"refusing to run: database {name!r} does not look like a test database "
                "(its name must contain 'test'); the suite drops and recreates its schema"
            )
        if WORKER:
            _create_database(PG_URL)
    elif REQUIRE_PG:
        raise pytest.UsageError(
            "DIRECTORY_REQUIRE_POSTGRES=1 but DIRECTORY_TEST_DATABASE_URL is unset"
        )


def _create_database(url: str) -> None:
    """The worker's own database, made next to the configured one when it is missing."""
    from sqlalchemy import create_engine

    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        if "[postgresql" in report.nodeid or "-postgresql" in report.nodeid:
            _ran["postgresql"] += 1
        if "tests/browser/" in report.nodeid:
            _ran["browser"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller sees every worker's reports and judges
    missing = []
    if REQUIRE_PG and _ran["postgresql"] == 0:
        missing.append("PostgreSQL")
    if REQUIRE_BROWSER and _ran["browser"] == 0:
        missing.append("browser")
    if missing:
        print(f"\nFAILED: no {' and no '.join(missing)} tests passed, but this run requires them")
        session.exitstatus = 1


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    backend = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    _reset_postgres(PG_URL)
    return PG_URL


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that touches the database runs once per backend.
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    upgrade(db_url)  # tests run on a schema built by the migrations, so every run tests them
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture()
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test, made by the app's own
    factory (`make_sessionmaker`: no autoflush, no expiry on commit), so that tests see what
    the app sees."""
    conn = engine.connect()
    trans = conn.begin()
    session = make_sessionmaker(engine)(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if trans.is_active:
            trans.rollback()
        conn.close()


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    return create_app(settings, engine=engine)


@pytest.fixture()
def client(app, db: Session) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An HTTP client whose requests share the test's rolled-back transaction."""

    def _session() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _session
    with TestClient(app, base_url="http://testserver") as c:
        yield c
    app.dependency_overrides.pop(get_session, None)


ROOT = Path(__file__).resolve().parent.parent
