"""Row building for demo and generated data: plain dicts per table, written in bulk (SQLite
`executemany`, PostgreSQL COPY), so that 100,000 services load in seconds.

Both the hand-written demo (`loader.py`) and the synthetic generator (`generate.py`) use it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, Uuid
from sqlalchemy.orm import Session

from directory.db import UTCDateTime, utcnow
from directory.listings import models as m

#: Appended to every demo description, in the description's own locale.
DEMO_NOTE: dict[str, str] = {
    "en": "Demo data: this listing is fictional.",
    "uk": "Демонстраційні дані: цей запис вигаданий.",
    "ru": "Демонстрационные данные: эта запись вымышлена.",
    "pl": "Dane demonstracyjne: ten wpis jest fikcyjny.",
    "de": "Demodaten: Dieser Eintrag ist erfunden.",
    "ar": "بيانات تجريبية: هذا الإدراج وهمي.",
}

#: Insert order (parents first).
TABLES: tuple[type[Any], ...] = (
    m.Organization,
    m.Location,
    m.Service,
    m.ServiceAtLocation,
    m.Address,
    m.Phone,
    m.Schedule,
    m.ScheduleException,
    m.Language,
    m.RequiredDocument,
    m.Attribute,
    m.Notice,
    m.Translation,
)


def demo_text(text: str, locale: str) -> str:
    """`text` followed by the demo note in the same locale."""
    note = DEMO_NOTE.get(locale, DEMO_NOTE["en"])
    return f"{text} {note}" if text else note


def _missing_value(col: Column[Any], now: dt.datetime) -> Any:
    """What a column left out of every row gets: its scalar default, `now` for timestamps."""
    default = col.default
    if default is None:
        return None
    if getattr(default, "is_scalar", False):
        return default.arg  # type: ignore[attr-defined]
    if isinstance(col.type, UTCDateTime):
        return now
    raise ValueError(f"{col} has a computed default: give it a value in every row")


def _copy_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _apply(proc: Callable[[Any], Any], values: list[Any], *, memo: bool) -> list[Any]:
    """`proc` over `values`; with `memo`, once per distinct value (timestamps, flags and codes
    repeat a lot: the same `now` in every row's created_at)."""
    if not memo:
        return [proc(v) for v in values]
    done: dict[Any, Any] = {}
    out = []
    for v in values:
        try:
            out.append(done[v])
        except KeyError:
            done[v] = r = proc(v)
            out.append(r)
    return out


def insert_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Insert `rows` into `table` as fast as the backend allows: values converted once per column
    with the column types' own bind processors, then `executemany` (SQLite) or COPY (PostgreSQL).
    Keys no row sets get the column's default (the same for every row)."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = set().union(*(r.keys() for r in rows))
    cols = list(table.columns)
    columns: list[list[Any]] = []
    for col in cols:
        if col.key in keys:
            default = (
                _missing_value(col, now)
                if col.default is None or getattr(col.default, "is_scalar", False)
                else None
            )
            values = [r.get(col.key, default) for r in rows]
        else:
            values = [_missing_value(col, now)] * len(rows)
        proc = col.type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            values = _apply(proc, values, memo=not isinstance(col.type, Uuid))
        columns.append(values)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in cols)
    tuples = list(zip(*columns, strict=True))
    if dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
        ):
            for row in tuples:
                copy.write_row([_copy_value(v) for v in row])
        return
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in cols)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608 (our own table metadata)
    conn.exec_driver_sql(sql, tuples)


class Rows:
    """Accumulates rows per table; `write(session)` inserts them in foreign-key order."""

    def __init__(self, new_id: Callable[[], uuid.UUID]) -> None:
        self.new_id = new_id
        self.rows: dict[type[Any], list[dict[str, Any]]] = {t: [] for t in TABLES}

    def add(self, model: type[Any], **values: Any) -> uuid.UUID:
        if "id" not in values:
            values["id"] = self.new_id()
        self.rows[model].append(values)
        rid: uuid.UUID = values["id"]
        return rid

    def texts(
        self,
        entity_type: str,
        entity_id: uuid.UUID,
        field: str,
        source_locale: str,
        texts: Mapping[str, str],
    ) -> str | None:
        """Store the non-source locales of `texts` as translations; return the source text
        (or, when the source locale is missing, English, else any)."""
        for locale, value in texts.items():
            if locale != source_locale and value:
                self.rows[m.Translation].append(
                    {
                        "id": self.new_id(),
                        "entity_type": entity_type,
                        "entity_id": entity_id,
                        "field": field,
                        "locale": locale,
                        "value": value,
                    }
                )
        if source_locale in texts:
            return texts[source_locale]
        return texts.get("en") or next(iter(texts.values()), None)

    def count(self, model: type[Any]) -> int:
        return len(self.rows[model])

    def write(self, session: Session, *, now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        for model in TABLES:
            insert_rows(session, model.__table__, self.rows[model], now)


def dec(value: float | None, places: int = 6) -> Decimal | None:
    if value is None:
        return None
    return Decimal(f"{value:.{places}f}")
