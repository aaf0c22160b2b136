"""Faults: the database goes away and comes back; SQLite is busy; a process dies mid-transaction."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.pool import NullPool

from directory import i18n
from directory.app import create_app
from directory.config import UI_LOCALES, Settings
from directory.db import make_engine
from directory.deps import DbSession
from directory.migrate import upgrade
from directory.unavailable import UNAVAILABLE_TEXT, unavailable_page
from tests.conftest import PG_URL

SECRET = "test-secret-key-" + "x" * 32
ROOT = Path(__file__).resolve().parents[2]


def _add_probe_routes(app: FastAPI) -> None:
    """A page and an API route that read the database through the normal request session."""

    @app.get("/en/_test/count")
    @app.get("/uk/_test/count")
    @app.get("/ar/_test/count")
    def page_count(db: DbSession) -> dict[str, int]:
        return {"n": db.execute(text("SELECT count(*) FROM locale")).scalar_one()}

    @app.get("/api/_test/count")
    def api_count(db: DbSession) -> dict[str, int]:
        return {"n": db.execute(text("SELECT count(*) FROM locale")).scalar_one()}

    @app.post("/api/_test/bump")
    def bump(db: DbSession) -> dict[str, int]:
        # read-modify-write in one transaction: the pattern that loses updates or deadlocks
        # when transactions are not serialised properly
        n = db.execute(text("SELECT n FROM ops_counter WHERE id = 1")).scalar_one()
        db.execute(text("UPDATE ops_counter SET n = :n WHERE id = 1"), {"n": n + 1})
        db.execute(text("INSERT INTO ops_log (n) VALUES (:n)"), {"n": n + 1})
        return {"n": n + 1}

    # before the mounted API, which owns /api/...
    routes = app.router.routes
    routes[:0] = [routes.pop() for _ in range(5)][::-1]


def _assert_unavailable(client: TestClient) -> None:
    for locale in ("en", "uk", "ar"):
        page = client.get(f"/{locale}/_test/count")
        assert page.status_code == 503, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["retry-after"]
        assert page.headers["content-language"] == locale
        with i18n.use_locale(locale):
            title = i18n.gettext("Temporarily unavailable")
        assert title in page.text
        assert locale == "en" or title != "Temporarily unavailable"  # really translated
        assert f'lang="{locale}"' in page.text
        assert "Traceback" not in page.text
    assert 'dir="rtl"' in client.get("/ar/_test/count").text
    for real in ("/api/v1/services", "/api/v1/places"):  # the mounted API's own routes
        r = client.get(real)
        assert r.status_code == 503, (real, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
    home = client.get("/uk/")  # the real home page
    assert home.status_code == 503 and home.headers["content-language"] == "uk"
    api = client.get("/api/_test/count")
    assert api.status_code == 503
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 503 and api.json()["title"] == "Service Unavailable"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    assert client.get("/healthz").status_code == 200


def _assert_available(client: TestClient) -> None:
    assert client.get("/en/_test/count").json()["n"] >= len(UI_LOCALES)
    assert client.get("/api/v1/places").status_code == 200
    assert client.get("/uk/").status_code == 200
    assert client.get("/api/_test/count").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_unavailable_texts_cover_every_locale() -> None:
    assert set(UNAVAILABLE_TEXT) == set(UI_LOCALES)
    for locale in UI_LOCALES:
        page = unavailable_page(locale)
        assert UNAVAILABLE_TEXT[locale][1] in page and f'lang="{locale}"' in page
    assert 'dir="rtl"' in unavailable_page("ar")


# --- SQLite: the file disappears, then comes back ------------------------------------------


def test_sqlite_database_gone_then_back(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    # NullPool: every request opens the file anew, as a restarted worker would.
    engine = make_engine(url, poolclass=NullPool)
    app = create_app(Settings(database_url=url, secret_key=SECRET), engine=engine)
    _add_probe_routes(app)
    with TestClient(app) as client:
        _assert_available(client)
        path.rename(tmp_path / "away.db")
        path.mkdir()  # a directory where the database file was: "unable to open database file"
        try:
            _assert_unavailable(client)
        finally:
            path.rmdir()
            (tmp_path / "away.db").rename(path)
        _assert_available(client)  # recovers by itself
    engine.dispose()


# --- PostgreSQL: unreachable server, and a dropped connection behind a proxy -------------------


class TcpProxy:
    """A TCP forwarder to PostgreSQL that the test can cut and restore (a network failure)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.open.clear()
        with self.lock:
            for s in self.conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.conns.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture()
def pg_behind_proxy() -> Iterator[tuple[str, TcpProxy]]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    url = make_url(PG_URL)
    upgrade(PG_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield proxied, proxy
    proxy.close()


@pytest.mark.postgres
def test_postgres_connection_dropped_pool_recovers(pg_behind_proxy: tuple[str, TcpProxy]) -> None:
    url, proxy = pg_behind_proxy
    engine = make_engine(url, connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url=url, secret_key=SECRET), engine=engine)
    _add_probe_routes(app)
    with TestClient(app) as client:
        _assert_available(client)  # the pool now holds live connections
        proxy.cut()  # they all die, and new ones are refused
        _assert_unavailable(client)
        proxy.restore()
        _assert_available(client)  # pre-ping threw the dead connections away
        _assert_available(client)
    engine.dispose()


@pytest.mark.postgres
def test_postgres_server_unreachable_from_the_start() -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    url = make_url(PG_URL).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    engine = make_engine(url, connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url=url, secret_key=SECRET), engine=engine)
    _add_probe_routes(app)
    with TestClient(app) as client:
        _assert_unavailable(client)
    engine.dispose()


# --- SQLite busy: many writers at once ---------------------------------------------------------


def test_sqlite_concurrent_writers_no_errors_no_lost_updates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE ops_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("CREATE TABLE ops_log (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO ops_counter VALUES (1, 0)"))
    app = create_app(Settings(database_url=url, secret_key=SECRET), engine=engine)
    _add_probe_routes(app)
    threads, per_thread = 8, 25
    with TestClient(app) as client:

        def worker(_: int) -> list[int]:
            codes = []
            for i in range(per_thread):
                if i % 3 == 2:
                    codes.append(client.get("/api/_test/count").status_code)
                codes.append(client.post("/api/_test/bump").status_code)
            return codes

        with ThreadPoolExecutor(threads) as pool:
            codes = [c for batch in pool.map(worker, range(threads)) for c in batch]
    assert [c for c in codes if c != 200] == []
    writes = threads * per_thread
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM ops_counter")).scalar_one() == writes
        logged = conn.execute(text("SELECT n FROM ops_log ORDER BY n")).scalars().all()
    assert logged == list(range(1, writes + 1))  # every increment seen exactly once: none lost
    engine.dispose()


# --- A process killed in the middle of a big write -----------------------------------------------

KILLED_WRITER = textwrap.dedent(
    """
    import sys, uuid
    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.listings.models import Organization
    engine = make_engine(sys.argv[1])
    with session_scope(make_sessionmaker(engine)) as session:
        for i in range(int(sys.argv[2])):
            session.add(Organization(name=f"Killed import {i}", description="x" * 200))
            if i % 500 == 499:
                session.flush()  # rows are in the database's transaction, not committed
        session.flush()
        print("flushed", flush=True)
        sys.stdin.read()  # wait to be killed
    """
)


def _count_orgs(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM organization")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_mid_transaction_leaves_database_as_it_was(tmp_path: Path, backend: str) -> None:
    if backend == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'killed.db'}"
    upgrade(url)
    before = _count_orgs(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, url, "3000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "flushed"  # mid-transaction, 3000 rows written
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if backend == "sqlite":
        # a hot journal/WAL is left behind; the next opener recovers from it
        assert (tmp_path / "killed.db-wal").exists()
    assert _count_orgs(url) == before
    if backend == "sqlite":
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        engine.dispose()
    shutil.rmtree(tmp_path, ignore_errors=True)
