"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production).

One code path serves both: SQLite gets WAL, foreign keys and a busy timeout on every connection;
PostgreSQL gets a pre-pinged pool. Services never commit: the caller (a request, a CLI command)
owns the transaction through `session_scope` or the `get_session` dependency.

The served app's engine also gets `Timeouts` (statement, lock, idle-in-transaction, pool wait),
so that any stall ends in an error (a 503 with Retry-After) instead of a frozen server; CLI
commands (imports, reindex, backups) run without the statement timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    MetaData,
    String,
    TypeDecorator,
    Uuid,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
)

log = logging.getLogger("directory.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite stores no offset, so we add it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware value")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value  # the DateTime impl has already parsed SQLite's text
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        str: String(),
    }


class Entity(Base):
    """Columns every editable record has: UUID key, timestamps, version counter, soft delete.

    `version` doubles as SQLAlchemy's version_id_col, so a stale flush raises StaleDataError,
    and the API exposes it as the ETag for optimistic concurrency.
    """

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    archived_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


@dataclass(frozen=True)
class Timeouts:
    """How long the served app's database work may wait, in seconds (0 = no limit).

    statement: PostgreSQL `statement_timeout` (one statement's run time).
    lock: PostgreSQL `lock_timeout` (waiting for a row or table lock); SQLite's busy timeout
        (waiting for the write lock).
    idle_in_transaction: PostgreSQL `idle_in_transaction_session_timeout` (a transaction left
        open while its owner does nothing: the server ends that session, freeing its locks).
    pool: waiting for a free connection of the pool.
    """

    statement: float = 30.0
    lock: float = 10.0
    idle_in_transaction: float = 60.0
    pool: float = 10.0


#: SQLite's busy timeout for engines made without `Timeouts` (CLI commands, which on PostgreSQL
#: run with the server's own settings: an import or a reindex may run long statements).
CLI_BUSY_TIMEOUT = 10.0


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # isolation_level=None hands transaction control to SQLAlchemy's events below, so that
        # BEGIN IMMEDIATE takes the write lock up front (no deadlock-prone lock upgrades).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def _pg_timeouts(timeouts: Timeouts) -> Callable[[Any, Any], None]:
    settings = (
        ("statement_timeout", _ms(timeouts.statement)),
        ("lock_timeout", _ms(timeouts.lock)),
        ("idle_in_transaction_session_timeout", _ms(timeouts.idle_in_transaction)),
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Session-level settings, outside any transaction (the SQLAlchemy-documented pattern).
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cur:
            for name, ms in settings:
                cur.execute(f"SET SESSION {name} = {int(ms)}")
        dbapi_connection.autocommit = autocommit

    return on_connect


#: Set (by `directory.security`) while a request with a safe method (GET, HEAD, OPTIONS) runs:
#: its transaction starts with a plain BEGIN, so readers run side by side under WAL. Every other
#: transaction (unsafe requests, CLI, imports) starts with BEGIN IMMEDIATE and so waits up to
#: busy_timeout for the write lock, instead of failing at once with "database is locked" when a
#: read lock cannot be upgraded because another writer committed in between.
sqlite_read_only: ContextVar[bool] = ContextVar("sqlite_read_only", default=False)


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN" if sqlite_read_only.get() else "BEGIN IMMEDIATE")


#: Connections a SQLite file engine keeps open (SQLAlchemy's default is 5). A request holds its
#: connection from its first query until the session dependency's exit has run in a request
#: thread, so with `DIRECTORY_THREADS` threads more than that many are checked out at once
#: (measured: up to 14 with 8 threads at 32 concurrent requests). Past the pool size every return
#: closed the connection and the next request opened a new one (4 PRAGMAs, an empty page cache):
#: 30 of 256 requests did. A kept SQLite connection costs a file handle and its page cache.
SQLITE_POOL_SIZE = 20
#: Same reason for PostgreSQL (a new connection is a new server process): kept connections per
#: worker process, plus `max_overflow` more under bursts.
PG_POOL_SIZE = 16


def _sqlite_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


def _pg_transaction_timeouts(timeouts: Timeouts) -> Callable[[Any], None]:
    """Behind PgBouncer in transaction pooling mode a session-level SET would stay on a server
    connection that the next client gets: the timeouts are set per transaction instead (one
    round trip). The idle-in-transaction bound is then PgBouncer's `idle_transaction_timeout`."""
    statement, lock = _ms(timeouts.statement), _ms(timeouts.lock)
    sql = (
        f"SELECT set_config('statement_timeout', '{statement}', true), "
        f"set_config('lock_timeout', '{lock}', true)"
    )

    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(sql)

    return on_begin


def make_engine(
    url: str, *, timeouts: Timeouts | None = None, pooler: str | None = None, **kwargs: Any
) -> Engine:
    """Create an engine for `url` with the settings this project relies on; `timeouts` for
    the served app (see `Timeouts`); `pooler="pgbouncer"` when `url` is PgBouncer in
    transaction pooling mode (docs/deploying.md, "PgBouncer"); unset, DIRECTORY_DATABASE_POOLER
    decides (so CLI commands and migrations behind PgBouncer need no flag of their own)."""
    if pooler is None:
        pooler = os.environ.get("DIRECTORY_DATABASE_POOLER", "none")
    if timeouts is not None:
        kwargs = {"pool_timeout": timeouts.pool, **kwargs}
    if url.startswith("sqlite"):
        busy = timeouts.lock if timeouts is not None else CLI_BUSY_TIMEOUT
        if "poolclass" not in kwargs and _sqlite_file(url):
            kwargs = {"pool_size": SQLITE_POOL_SIZE, **kwargs}
        else:
            kwargs.pop("pool_timeout", None)  # SQLite's single-connection pools have none
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas(_ms(busy)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if pooler == "pgbouncer":
        # PgBouncer 1.18 (Debian 12) keeps no prepared statements across transactions: psycopg
        # must not prepare any (its default prepares a query after 5 runs).
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "prepare_threshold": None}
    engine = create_engine(
        url, pool_pre_ping=True, pool_size=PG_POOL_SIZE, max_overflow=10, **kwargs
    )
    if timeouts is not None:
        if pooler == "pgbouncer":
            event.listen(engine, "begin", _pg_transaction_timeouts(timeouts))
        else:
            event.listen(engine, "connect", _pg_timeouts(timeouts))
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


_AFTER = "_after_unit_of_work"


def after_unit_of_work(session: Session, action: Callable[[], object]) -> None:
    """Run `action` once the session's unit of work is over (committed or rolled back, its
    connection back in the pool), whatever its outcome. For bookkeeping that must never hold
    a lock inside the unit of work (e.g. a token's last-use stamp). Failures are logged only.
    Only sessions run by `session_scope` / the request dependency run these."""
    session.info.setdefault(_AFTER, []).append(action)


def run_after_unit_of_work(session: Session) -> None:
    for action in session.info.pop(_AFTER, []):
        try:
            action()
        except Exception:  # noqa: BLE001 - bookkeeping never fails the request that is over
            log.warning("after-unit-of-work action failed", exc_info=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        run_after_unit_of_work(session)


def refresh_statistics(engine: Engine) -> None:
    """After a bulk write (import, generate, reindex, restore): the query planner's statistics
    for every table, now. PostgreSQL's autovacuum gets to a freshly loaded table only minutes
    later; until then it plans searches from empty statistics (measured at 100,000 services:
    0.7–1.5 s per search instead of 30–70 ms). SQLite: `ANALYZE` fills sqlite_stat1 likewise."""
    from sqlalchemy import text

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
