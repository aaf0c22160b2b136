"""The exporter's SQL helpers: ids read as text, `IN` lists as one array parameter on
PostgreSQL, live rows of a table by a column (`records` re-exports them)."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    String,
    Table,
    Time,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
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


def _hex_to_text(value: str) -> str:
    """SQLite's 32 hex digits of a UUID as its text form (as `_IdText` reads them)."""
    if len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _utc_text(value: dt.datetime) -> str:
    """An aware timestamp as the exports write it: ISO 8601 in UTC with a `Z`."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _sqlite_stamp(parse: Any) -> Any:
    """SQLite's text of a UTC timestamp (`2026-12-03 15:34:55.873375`, as SQLAlchemy stores
    it) → `_utc_text` of it by slicing; any other form is parsed as SQLAlchemy would."""

    def convert(value: str) -> str:
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            if value.endswith("000000"):
                return value[:10] + "T" + value[11:19] + "Z"
            return value[:10] + "T" + value[11:] + "Z"
        return _utc_text(parse(value).replace(tzinfo=dt.UTC))

    return convert


def _sqlite_time(parse: Any) -> Any:
    """SQLite's text of a time (`09:30:00.000000`, as SQLAlchemy stores it) → its
    `isoformat()` by slicing (the exports write nothing else of it); other forms are parsed."""

    def convert(value: Any) -> str:
        if type(value) is str and len(value) == 15 and value[8] == ".":
            return value[:8] if value.endswith("000000") else value
        return str(parse(value).isoformat())

    return convert


def _sqlite_date(parse: Any) -> Any:
    """SQLite's text of a date (`2026-12-03`) as it is: its `isoformat()` (text sorts as the
    dates do); other forms are parsed."""

    def convert(value: Any) -> str:
        if type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
            return value
        return str(parse(value).isoformat())

    return convert


def _pg_stamp(value: dt.datetime) -> str:
    return _utc_text(value)


class Reader:
    """Selects columns and reads the rows as plain dicts, straight from the driver's cursor:
    SQLAlchemy's result rows and per-value type processing cost more than the query (a batch
    of 2,000 rows of ten columns: 45 ms through the ORM session's result, 15 ms raw).

    Values are what the exports write: UUIDs and timestamps as text (`_hex_to_text`,
    `_utc_text`), enums as their stored value, on SQLite dates and times as ISO text too
    (`_sqlite_date`, `_sqlite_time`: no date or time object made only to be formatted again);
    other types as the driver reads them, on SQLite through their SQLAlchemy result processor
    (decimals, booleans)."""

    def __init__(self, dialect: Dialect, columns: Sequence[tuple[str, Any]]) -> None:
        sqlite = dialect.name == "sqlite"
        self.keys = tuple(label for label, _ in columns)
        self.exprs: list[Any] = []
        self.converters: list[tuple[int, Any]] = []  # (column index, converter)
        for label, column in columns:
            kind = column.type
            convert: Any = None
            expr: Any
            if isinstance(kind, Uuid):
                if sqlite:  # 32 hex digits, formatted here (faster than substr() in SQL)
                    expr = type_coerce(column, String)
                    convert = _hex_to_text
                else:
                    expr = cast(column, String)
            elif isinstance(kind, Enum):
                expr = type_coerce(column, String)  # stored as the value the exports write
            elif isinstance(kind, TypeDecorator) and isinstance(kind.impl_instance, DateTime):
                expr = column
                impl = kind.impl_instance.dialect_impl(dialect)
                convert = (
                    _sqlite_stamp(impl.result_processor(dialect, None)) if sqlite else _pg_stamp
                )
            elif sqlite and isinstance(kind, Time | Date):
                expr = column
                parse = kind.dialect_impl(dialect).result_processor(dialect, None)
                convert = (_sqlite_time if isinstance(kind, Time) else _sqlite_date)(parse)
            else:
                expr = column
                if sqlite:  # psycopg hands out decimals, dates and booleans itself
                    convert = kind.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                self.converters.append((len(self.exprs), convert))
            self.exprs.append(expr.label(label))

        self.build = _row_builder(self.keys, dict(self.converters))

    def rows(
        self, session: Session, stmt: Any, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The rows of `stmt` (a select of `self.exprs`, with its own where clauses)."""
        result = session.execute(stmt, params)
        try:
            raw = result.cursor.fetchall()  # type: ignore[attr-defined]
        finally:
            result.close()
        if not raw:
            return []
        return self.build(raw)  # type: ignore[no-any-return]

    def tuples(
        self, session: Session, stmt: Any, params: dict[str, Any] | None = None
    ) -> list[Any]:
        """The driver's rows of `stmt` as they are (no dicts, nothing converted: ids on SQLite
        as 32 hex digits), for a caller that converts what it keeps."""
        result = session.execute(stmt, params)
        try:
            return result.cursor.fetchall()  # type: ignore[attr-defined,no-any-return]
        finally:
            result.close()


def _row_builder(keys: Sequence[str], converters: dict[int, Any]) -> Any:
    """A function turning the driver's tuples into dicts with the converted values, written out
    for these columns (one list comprehension, no per-value calls for ids): building the rows
    was a third of the export's CPU when done column by column."""
    names = [f"v{i}" for i in range(len(keys))]
    scope: dict[str, Any] = {}
    items = []
    for i, (key, name) in enumerate(zip(keys, names, strict=True)):
        convert = converters.get(i)
        if convert is None:
            value = name
        elif convert is _hex_to_text:  # inlined: most values are ids
            value = (
                f"({name} if {name} is None or len({name}) != 32 else "
                f'f"{{{name}[:8]}}-{{{name}[8:12]}}-{{{name}[12:16]}}-{{{name}[16:20]}}'
                f'-{{{name}[20:]}}")'
            )
        else:
            scope[f"c{i}"] = convert
            value = f"(None if {name} is None else c{i}({name}))"
        items.append(f"{key!r}: {value}")
    target = names[0] + "," if len(names) == 1 else ", ".join(names)
    code = f"def build(raw):\n    return [{{{', '.join(items)}}} for {target} in raw]\n"
    exec(code, scope)  # noqa: S102 - generated from our own column labels
    return scope["build"]


def reader(session: Session, table: Table, names: Sequence[str], prefix: str = "") -> Reader:
    """A `Reader` of these columns of `table` (cached per dialect, table and names)."""
    dialect = session.get_bind().dialect
    return _reader(dialect, table, tuple(names), prefix)


@functools.cache
def _reader(dialect: Dialect, table: Table, names: tuple[str, ...], prefix: str) -> Reader:
    return Reader(dialect, [(prefix + n, table.c[n]) for n in names])


def in_ids(dialect: Dialect, column: Any, name: str) -> Any:
    """`column IN (:name)` for ids in text form with ONE parameter whatever their number (its
    value given at execution: `ids_value`), so the statement is built and compiled once per
    export: a JSON array read by `json_each` on SQLite, a `uuid[]` on PostgreSQL.

    The value is never part of the statement: a statement built per batch around its ids is
    freed only by the cyclic garbage collector (SQLAlchemy's clause objects refer to each
    other), which the export runs rarely — 16 statements and their id lists kept per batch
    made the export's memory grow with the number of services (~1.2 MB per 2,000)."""
    if dialect.name == "postgresql":
        return column == any_(cast(bindparam(name, type_=ARRAY(String())), ARRAY(Uuid())))
    each = func.json_each(bindparam(name, type_=String())).table_valued("value")
    return column.in_(select(each.c.value))


def ids_value(dialect: Dialect, ids: Iterable[str]) -> Any:
    """The value of an `in_ids` parameter: the ids (text form) as the database reads them."""
    if dialect.name == "postgresql":
        return list(ids)
    # SQLite keeps 32 hex digits; ids are hex and dashes only, nothing to escape in JSON
    hexes = [i.replace("-", "") for i in ids]
    return '["' + '","'.join(hexes) + '"]' if hexes else "[]"


def _ids(values: Iterable[Any]) -> list[uuid.UUID]:
    """Ids in text form back to UUIDs, for query parameters."""
    return [v if isinstance(v, uuid.UUID) else uuid.UUID(v) for v in values]


def _in(session: Session, column: Any, ids: list[uuid.UUID]) -> Any:
    """`column IN (ids)`; on PostgreSQL `column = ANY(:ids)` with ONE array parameter (an IN
    list of 2,000 parameters costs more to render and parse than the query to run)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Uuid())))
    return column.in_(ids)


def _fetch(
    session: Session, table: Table, names: Sequence[str], column: str, ids: Iterable[str]
) -> list[dict[str, Any]]:
    """The live rows (`names` → value, as `Reader` reads them) whose `column` is one of `ids`
    (text form)."""
    ids = list(ids)
    if not ids:
        return []
    dialect = session.get_bind().dialect
    read, stmt = _fetch_statement(dialect, table, tuple(names), column)
    return read.rows(session, stmt, {"ids": ids_value(dialect, ids)})


@functools.cache
def _fetch_statement(
    dialect: Dialect, table: Table, names: tuple[str, ...], column: str
) -> tuple[Reader, Any]:
    read = _reader(dialect, table, names, "")
    stmt = select(*read.exprs).where(in_ids(dialect, table.c[column], "ids"))
    if "archived_at" in table.c:
        stmt = stmt.where(table.c.archived_at.is_(None))
    return read, stmt


def _rows(session: Session, table: Table, column: str, ids: Iterable[Any]) -> list[Any]:
    ids = _ids(ids)
    if not ids:
        return []
    stmt = select(*_cols(table)).where(_in(session, table.c[column], ids))
    if "archived_at" in table.c:
        stmt = stmt.where(table.c.archived_at.is_(None))
    return list(session.execute(stmt).mappings().all())
