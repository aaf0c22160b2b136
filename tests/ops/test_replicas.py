"""Read replicas against a real streaming replica (issue 16): the test starts its own primary and
hot-standby clusters (bench/pgclusters.py), writes on the primary, reads through the app,
makes the replica lag, and stops it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bench import pgclusters
from directory.app import create_app
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker, session_scope
from directory.manage.session import COOKIE_NAME
from directory.migrate import upgrade
from directory.replicas import MANAGE_COOKIE, WAL_COOKIE, parse_lsn
from tests.conftest import PG_URL, REQUIRE_PG
from tests.factories import make_service

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def clusters() -> Iterator[pgclusters.PrimaryAndReplica]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    if not pgclusters.available():
        if REQUIRE_PG:
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found")
        pytest.skip("PostgreSQL server binaries not installed")
    pair = pgclusters.PrimaryAndReplica().start()
    try:
        with pair.primary.connect() as conn:
            conn.execute("CREATE DATABASE test_replicas")
        upgrade(pair.primary.url("test_replicas"))
        yield pair
    finally:
        pair.stop()


def _app(pair: pgclusters.PrimaryAndReplica, **extra: object):  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=pair.primary.url("test_replicas"),
        database_replica_urls=pair.replica.url("test_replicas"),
        replica_check_seconds=0.001,  # re-checked on every read: the test sees each change at once
        secret_key="test-secret-key-" + "x" * 32,
        **extra,  # type: ignore[arg-type]
    )
    return create_app(settings)


def _service(pair: pgclusters.PrimaryAndReplica, name: str) -> str:
    engine = make_engine(pair.primary.url("test_replicas"))
    with session_scope(make_sessionmaker(engine)) as db:
        svc = make_service(db, name=name)
        ident = str(svc.id)
    engine.dispose()
    return ident


def _rename(pair: pgclusters.PrimaryAndReplica, ident: str, name: str) -> None:
    engine = make_engine(pair.primary.url("test_replicas"))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE service SET name = :n, version = version + 1 WHERE id = :i"),
            {"n": name, "i": ident},
        )
    engine.dispose()


def test_anonymous_reads_go_to_the_replica_and_see_the_primarys_writes(clusters) -> None:  # type: ignore[no-untyped-def]
    ident = _service(clusters, "Replica shelter one")  # committed = applied on the replica
    app = _app(clusters)
    router = app.state.replicas
    with TestClient(app, base_url="http://testserver") as client:
        page = client.get(f"/en/services/{ident}")
        assert page.status_code == 200
        assert "Replica shelter one" in page.text
        assert router.replicas[0].served == 1, "an anonymous read was not served by the replica"
        # signed-in staff and API clients always read the primary
        client.get(f"/api/services/{ident}", headers={"Authorization": "Bearer nothing"})
        assert router.replicas[0].served == 1
    router.dispose()
    app.state.engine.dispose()


def test_a_writer_reads_their_own_write_while_the_replica_lags(clusters) -> None:  # type: ignore[no-untyped-def]
    ident = _service(clusters, "Lagging shelter")
    with clusters.primary.connect() as conn:  # commits stop waiting for the replica
        conn.execute("ALTER SYSTEM SET synchronous_commit = 'local'")
        conn.execute("SELECT pg_reload_conf()")
    with clusters.replica.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    app = _app(clusters, replica_max_lag_seconds=3600)
    router = app.state.replicas
    try:
        _rename(clusters, ident, "Lagging shelter renamed")
        with TestClient(app, base_url="http://testserver") as client:
            stale = client.get(f"/en/services/{ident}")
            assert stale.status_code == 200
            # within the lag bound, an anonymous reader may see the replica's older copy
            assert "Lagging shelter renamed" not in stale.text
            assert router.replicas[0].served == 1
            token = re.search(r'name="token" value="([^"]+)"', stale.text)
            assert token, "the report form carries its token"
            report = {"kind": "closed", "message": "", "token": token.group(1)}
            # a reader's report: stored, and no cookie (readers get none)
            sent = client.post(f"/en/services/{ident}/report", data=report, follow_redirects=False)
            assert sent.status_code == 303, sent.text[:500]
            assert "set-cookie" not in sent.headers
            # a signed-in volunteer's write (their manage cookie) → the primary's WAL position
            sent = client.post(
                f"/en/services/{ident}/report",
                data=report,
                headers={"Cookie": f"{MANAGE_COOKIE}=signed-in"},
                follow_redirects=False,
            )
            assert sent.status_code == 303, sent.text[:500]
            wal = sent.cookies.get(WAL_COOKIE)
            assert wal and parse_lsn(wal), "a write gives the writer the primary's WAL position"
            client.cookies.set(WAL_COOKIE, wal)
            # (signed out: no manage cookie any more, the WAL cookie still routes them)
            # the writer's next reads: the replica has not replayed that far → the primary
            after = client.get(f"/en/services/{ident}")
            assert "Lagging shelter renamed" in after.text
            assert router.replicas[0].served == 1
            # a reader without the cookie still gets the replica
            client.cookies.clear()
            assert "Lagging shelter renamed" not in client.get(f"/en/services/{ident}").text
            assert router.replicas[0].served == 2
        # a lag bound of 0: a replica with unreplayed WAL is skipped for everyone
        router.max_lag = 0
        with TestClient(app, base_url="http://testserver") as client:
            assert "Lagging shelter renamed" in client.get(f"/en/services/{ident}").text
            assert router.replicas[0].served == 2
    finally:
        with clusters.replica.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        with clusters.primary.connect() as conn:
            conn.execute("ALTER SYSTEM RESET synchronous_commit")
            conn.execute("SELECT pg_reload_conf()")
        router.dispose()
        app.state.engine.dispose()


def test_a_replica_that_is_down_is_skipped(clusters) -> None:  # type: ignore[no-untyped-def]
    ident = _service(clusters, "Survivor shelter")
    app = _app(clusters)
    router = app.state.replicas
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get(f"/en/services/{ident}").status_code == 200
        assert router.replicas[0].served == 1
        clusters.replica.stop()
        for _ in range(5):
            page = client.get(f"/en/services/{ident}")
            assert page.status_code == 200
            assert "Survivor shelter" in page.text
        assert router.replicas[0].served == 1
        assert not router.replicas[0].healthy
    router.dispose()
    app.state.engine.dispose()


def test_the_manage_cookie_name_is_the_one_the_router_knows() -> None:
    assert MANAGE_COOKIE == COOKIE_NAME
