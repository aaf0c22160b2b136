"""Backups taken while writes go on, restored atomically; damaged or foreign files refused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from directory.cli import main
from directory.config import ConfigError, Settings
from directory.db import make_engine
from directory.migrate import head_revision, upgrade
from directory.ops import backup, restore, verify_sqlite
from tests.conftest import PG_URL

SECRET = "test-secret-key-" + "x" * 32


def _prepare(url: str) -> Engine:
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS ops_counter"))
        conn.execute(text("DROP TABLE IF EXISTS ops_log"))
        conn.execute(text("CREATE TABLE ops_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("CREATE TABLE ops_log (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO ops_counter VALUES (1, 0)"))
    return engine


def _state(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        n = conn.execute(text("SELECT n FROM ops_counter")).scalar_one()
        logged = conn.execute(text("SELECT count(*) FROM ops_log")).scalar_one()
    return int(n), int(logged)


class Writer(threading.Thread):
    """Writes continuously; every transaction keeps counter == number of log rows."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.writes = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM ops_counter WHERE id = 1")).scalar_one()
                    conn.execute(text("UPDATE ops_counter SET n = :n WHERE id = 1"), {"n": n + 1})
                    conn.execute(text("INSERT INTO ops_log (n) VALUES (:n)"), {"n": n + 1})
                self.writes += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
                return


def _backups_during_writes(engine: Engine, settings: Settings, tmp_path: Path) -> list[Path]:
    writer = Writer(engine)
    writer.start()
    try:
        while writer.writes < 20 and not writer.errors:
            threading.Event().wait(0.01)
        files = []
        for i in range(3):
            files.append(backup(settings, tmp_path / f"backup-{i}.bak"))
            marker = writer.writes
            while writer.writes < marker + 10 and not writer.errors:
                threading.Event().wait(0.01)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.errors == []
    assert writer.writes > 40
    return files


def test_sqlite_backup_during_writes_and_restore_into_running_app(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    url = f"sqlite:///{live}"
    engine = _prepare(url)
    settings = Settings(database_url=url, secret_key=SECRET)
    files = _backups_during_writes(engine, settings, tmp_path)
    states = []
    for f in files:
        assert f.stat().st_mode & 0o077 == 0  # owner-only: backups hold confidential data
        assert verify_sqlite(f) == head_revision()
        check = make_engine(f"sqlite:///{f}")
        n, logged = _state(check)
        check.dispose()
        assert n == logged > 0  # a consistent snapshot: no half transaction
        states.append(n)
    assert states == sorted(states) and states[0] < states[-1]
    final, _ = _state(engine)
    assert final > states[0]

    # Restore the first backup while the "app" (this engine, with pooled open connections) runs.
    result = restore(settings, files[0])
    assert result.revision == head_revision() and not result.needs_migrate
    assert _state(engine) == (states[0], states[0])  # the running engine sees the restored data
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        conn.execute(text("SELECT count(*) FROM organization")).scalar_one()
    with engine.begin() as conn:  # and can write again
        conn.execute(text("UPDATE ops_counter SET n = n + 1"))
    assert list(tmp_path.glob(".live.db.restore-*")) == []
    engine.dispose()


def test_restore_into_a_new_file(tmp_path: Path) -> None:
    engine = _prepare(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE ops_counter SET n = 7"))
    engine.dispose()
    bak = backup(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"), tmp_path / "a.bak")
    target = tmp_path / "sub" / "new.db"
    restore(Settings(database_url=f"sqlite:///{target}"), bak)
    fresh = make_engine(f"sqlite:///{target}")
    assert _state(fresh)[0] == 7
    fresh.dispose()


def _damaged_copy(good: Path, tmp_path: Path) -> Path:
    data = bytearray(good.read_bytes())
    page = 4096
    for offset in range(page * 2, len(data) - page, page * 3):  # scribble over b-tree pages
        data[offset + 8 : offset + 200] = b"\xff" * 192
    bad = tmp_path / "damaged.bak"
    bad.write_bytes(bytes(data))
    return bad


def test_restore_refuses_bad_files_and_leaves_the_database_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = _prepare(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ops_counter SET n = 42"))
    settings = Settings(database_url=url)
    good = backup(settings, tmp_path / "good.bak")

    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE x (a)").connection.commit()
    future = tmp_path / "future.db"
    future.write_bytes(good.read_bytes())
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    truncated = tmp_path / "truncated.bak"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    damaged = _damaged_copy(good, tmp_path)

    for bad, words in [
        (not_sqlite, "not a SQLite"),
        (foreign, "no aid-directory schema"),
        (future, "unknown to this version"),
        (truncated, ""),
        (damaged, ""),
    ]:
        with pytest.raises(ConfigError) as exc:
            restore(settings, bad)
        assert words in str(exc.value), str(exc.value)
        assert _state(engine) == (42, 0)
    engine.dispose()


def test_backup_refuses_missing_database(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        backup(Settings(database_url=f"sqlite:///{tmp_path / 'nope.db'}"), tmp_path / "x.bak")
    assert not (tmp_path / "x.bak").exists() and not (tmp_path / "x.bak.partial").exists()


def test_cli_backup_and_restore_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = _prepare(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ops_counter SET n = 5"))
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    runner = CliRunner()
    out = runner.invoke(main, ["backup", str(tmp_path / "cli.bak")])
    assert out.exit_code == 0, out.output
    assert "Backup written" in out.output
    with engine.begin() as conn:
        conn.execute(text("UPDATE ops_counter SET n = 99"))
    refused = runner.invoke(main, ["restore", str(tmp_path / "cli.bak")], input="n\n")
    assert refused.exit_code != 0 and _state(engine)[0] == 99
    done = runner.invoke(main, ["restore", "--yes", str(tmp_path / "cli.bak")])
    assert done.exit_code == 0, done.output
    assert _state(engine)[0] == 5
    (tmp_path / "junk.bak").write_text("junk")
    bad = runner.invoke(main, ["restore", "--yes", str(tmp_path / "junk.bak")])
    assert bad.exit_code == 2 and "Error:" in bad.output and "Traceback" not in bad.output
    engine.dispose()


@pytest.mark.postgres
def test_postgres_backup_during_writes_and_restore(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    engine = _prepare(PG_URL)
    settings = Settings(database_url=PG_URL, secret_key=SECRET)
    try:
        files = _backups_during_writes(engine, settings, tmp_path)
        assert files[0].read_bytes()[:5] == b"PGDMP"
        assert files[0].stat().st_mode & 0o077 == 0
        result = restore(settings, files[1])
        assert result.revision == head_revision()
        n, logged = _state(engine)
        assert n == logged > 0
        junk = tmp_path / "junk.dump"
        junk.write_bytes(b"PGDMP not really")
        with pytest.raises(ConfigError):
            restore(settings, junk)
        assert _state(engine) == (n, logged)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS ops_counter"))
            conn.execute(text("DROP TABLE IF EXISTS ops_log"))
        engine.dispose()
