"""Fast INSERT of many rows: the one place for this performance shortcut.

`insert_rows(session, table, rows, now)` stores what `session.execute(table.insert(), rows)`
stores (tests/test_fast_insert.py compares the two on SQLite and PostgreSQL), several times
faster: each column's values are converted by the column type's own bind processor (the public
`TypeEngine.dialect_impl(dialect).bind_processor(dialect)`), once per distinct value where
values repeat (timestamps, flags, codes), then handed to the driver: `COPY ... FROM STDIN` on
PostgreSQL with psycopg (one stream instead of rounds of INSERTs), `executemany` of one
prepared INSERT elsewhere (SQLAlchemy's generic per-row parameter handling costs more than the
database does).

A column a row leaves out gets its Python default: a scalar default as it is, a timestamp `now`
(the write's one time, as the rows that set it), another computed default (an id) called per
row; a column without a default is left out of the INSERT (NULL or the database's default).
Rows that leave out different columns go in separate statements.

Used by the bulk writer (`moderation.bulk`) and the demo and generated data (`demo.rows`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Enum, Table, Uuid
from sqlalchemy.orm import Session

from directory.db import UTCDateTime

#: rows per statement (executemany) or per COPY stream
CHUNK = 5000
#: column types whose equal values always convert to the same thing (safe to convert once)
_REPEATABLE = (dt.datetime, dt.date, dt.time, bool, int, str)


def _missing(col: Column[Any], now: dt.datetime) -> tuple[bool, Callable[[], Any] | None, Any]:
    """How a column a row leaves out is filled: (left out of the INSERT?, per-row callable,
    constant)."""
    default = col.default
    if default is None:
        return True, None, None
    if getattr(default, "is_scalar", False):
        return False, None, default.arg  # type: ignore[attr-defined]
    if isinstance(col.type, UTCDateTime):
        return False, None, now
    fn = default.arg  # type: ignore[attr-defined]
    return False, lambda: fn(None), None


def _repeats(col: Column[Any]) -> bool:
    if isinstance(col.type, Uuid):
        return False
    if isinstance(col.type, UTCDateTime):  # a TypeDecorator: its python_type says `object`
        return True
    try:
        python_type = col.type.python_type
    except NotImplementedError:
        return False
    return issubclass(python_type, _REPEATABLE) or issubclass(python_type, enum.Enum)


def _convert(proc: Callable[[Any], Any], values: list[Any], *, memo: bool) -> list[Any]:
    """`proc` over `values` (None stays None); with `memo`, once per distinct value."""
    if not memo:
        return [None if v is None else proc(v) for v in values]
    done: dict[Any, Any] = {None: None}
    out = []
    for v in values:
        try:
            out.append(done[v])
        except KeyError:
            done[v] = r = proc(v)
            out.append(r)
    return out


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def insert_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], now: dt.datetime
) -> None:
    """INSERT `rows` (dicts of column key → Python value) into `table`; see the module doc."""
    if not rows:
        return
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_keys[tuple(row)].append(row)
    conn = session.connection()
    dialect = conn.dialect
    copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    for keys, group in by_keys.items():
        given = set(keys)
        columns: list[tuple[Column[Any], list[Any]]] = []
        for col in table.columns:
            if col.key in given:
                values = [r[col.key] for r in group]
            else:
                skip, fn, constant = _missing(col, now)
                if skip:
                    continue
                values = [fn() for _ in group] if fn is not None else [constant] * len(group)
            proc = col.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                values = _convert(proc, values, memo=_repeats(col))
            elif isinstance(col.type, Enum):  # no conversion: the driver gets the value
                values = [_plain(v) for v in values]
            columns.append((col, values))
        # table and column names come from the model, never from input
        names = ", ".join(quote(col.name) for col, _ in columns)
        target = f"{dialect.identifier_preparer.format_table(table)} ({names})"
        tuples = list(zip(*(values for _, values in columns), strict=True))
        for start in range(0, len(tuples), CHUNK):
            chunk = tuples[start : start + CHUNK]
            if copy:
                raw = conn.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as stream:
                    for values_row in chunk:
                        stream.write_row(values_row)
            else:
                sql = f"INSERT INTO {target} VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608
                conn.exec_driver_sql(sql, chunk)
