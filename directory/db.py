"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production).

One code path serves both: SQLite gets WAL, foreign keys and a busy timeout on every connection;
PostgreSQL gets a pre-pinged pool. Services never commit: the caller (a request, a CLI command)
owns the transaction through `session_scope` or the `get_session` dependency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level=None hands transaction control to SQLAlchemy's events below, so that
    # BEGIN IMMEDIATE takes the write lock up front (no deadlock-prone lock upgrades).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url` with the settings this project relies on."""
    if url.startswith("sqlite"):
        if "poolclass" not in kwargs and _sqlite_file(url):
            kwargs = {"pool_size": SQLITE_POOL_SIZE, **kwargs}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=PG_POOL_SIZE, max_overflow=10, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


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
