"""Alembic environment. The URL comes from the caller (`aid-directory migrate`, tests) through
`config.attributes["connection"]` or the `sqlalchemy.url` option; never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from directory.db import make_engine
from directory.models import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,  # SQLite alters tables by rebuilding them
        compare_type=True,
        compare_server_default=False,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Full-text index tables are created by raw SQL in migrations, not by the models.
    if type_ == "table" and name and (name.startswith("service_fts") or name.startswith("sqlite_")):
        return False
    return not (type_ == "index" and name and name.startswith("ix_service_search_pg_"))


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Table rebuilds must not cascade-delete child rows: foreign keys off around the
            # migration (it cannot change inside a transaction), PRAGMA foreign_key_check after.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            _run(conn)
            conn.commit()
        finally:
            if conn.dialect.name == "sqlite":
                conn.rollback()
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `aid-directory migrate`")
run_migrations_online()
_ = text
