"""The exporter's SQL helpers: ids read as text, `IN` lists as one array parameter on
PostgreSQL, live rows of a table by a column (`records` re-exports them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    String,
    Table,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    cast,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


class _IdText(TypeDecorator[str]):
    """Reads a UUID column as its text form directly: SQLite stores 32 hex digits, PostgreSQL
    drivers hand out UUID objects. Skipping the UUID object on SQLite saves a quarter of the
    export's time (every row has several ids, and each is written out as text anyway)."""

    impl = String
    cache_ok = True

    def column_expression(self, colexpr: Any) -> Any:
        # PostgreSQL sends the text form (psycopg would build a UUID object per id, only for
        # us to format it again); on SQLite the stored 32 hex digits are text already.
        return type_coerce(cast(colexpr, String), _IdTextResult())

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, str) and len(value) == 36:
            return value
        if isinstance(value, uuid.UUID):
            return str(value)
        v = str(value)
        return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}" if len(v) == 32 else v


class _IdTextResult(_IdText):
    """The cast id as read back (formatted like `_IdText`, without casting again)."""

    cache_ok = True

    def column_expression(self, colexpr: Any) -> Any:
        return None


def _col(column: Any, label: str | None = None) -> Any:
    out = type_coerce(column, _IdText()) if isinstance(column.type, Uuid) else column
    return out.label(label or column.name)


def _cols(table: Any) -> list[Any]:
    return [_col(c) for c in table.c]


def _ids(values: Iterable[Any]) -> list[uuid.UUID]:
    """Ids in text form back to UUIDs, for query parameters."""
    return [v if isinstance(v, uuid.UUID) else uuid.UUID(v) for v in values]


def _in(session: Session, column: Any, ids: list[uuid.UUID]) -> Any:
    """`column IN (ids)`; on PostgreSQL `column = ANY(:ids)` with ONE array parameter (an IN
    list of 2,000 parameters costs more to render and parse than the query to run)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Uuid())))
    return column.in_(ids)


def _rows(session: Session, table: Table, column: str, ids: Iterable[Any]) -> list[Any]:
    ids = _ids(ids)
    if not ids:
        return []
    stmt = select(*_cols(table)).where(_in(session, table.c[column], ids))
    if "archived_at" in table.c:
        stmt = stmt.where(table.c.archived_at.is_(None))
    return list(session.execute(stmt).mappings().all())
