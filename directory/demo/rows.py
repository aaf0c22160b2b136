"""Row building for demo and generated data: plain dicts per table, written with bulk Core
inserts (one executemany per table and batch), so that 100,000 services load in seconds.

Both the hand-written demo (`loader.py`) and the synthetic generator (`generate.py`) use it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

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
    m.Organization, m.Location, m.Service, m.ServiceAtLocation, m.Address, m.Phone, m.Schedule,
    m.ScheduleException, m.Language, m.RequiredDocument, m.Attribute, m.Notice, m.Translation,
)


def demo_text(text: str, locale: str) -> str:
    """`text` followed by the demo note in the same locale."""
    note = DEMO_NOTE.get(locale, DEMO_NOTE["en"])
    return f"{text} {note}" if text else note


def _defaults(table: Table) -> dict[str, Any]:
    """Scalar Python-side defaults, used for keys some rows of a batch leave out."""
    out: dict[str, Any] = {}
    for col in table.columns:
        default = col.default
        if default is not None and getattr(default, "is_scalar", False):
            out[col.key] = default.arg  # type: ignore[attr-defined]
        else:
            out[col.key] = None
    return out


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
                self.rows[m.Translation].append({
                    "id": self.new_id(), "entity_type": entity_type, "entity_id": entity_id,
                    "field": field, "locale": locale, "value": value,
                })
        if source_locale in texts:
            return texts[source_locale]
        return texts.get("en") or next(iter(texts.values()), None)

    def count(self, model: type[Any]) -> int:
        return len(self.rows[model])

    def write(self, session: Session, *, batch: int = 5000, now: dt.datetime | None = None) -> None:
        for model in TABLES:
            rows = self.rows[model]
            if not rows:
                continue
            table: Table = model.__table__
            defaults = _defaults(table)
            keys = set().union(*(r.keys() for r in rows))
            # Columns no row sets keep their defaults (id, created_at, version, ...); the others
            # must be present in every row of an executemany.
            fill = {k: defaults[k] for k in keys}
            if now is not None:
                for stamp in ("created_at", "updated_at"):
                    if stamp in table.columns and stamp not in keys:
                        fill[stamp] = now
            for start in range(0, len(rows), batch):
                chunk = [{**fill, **r} for r in rows[start:start + batch]]
                session.execute(insert(table), chunk)


def dec(value: float | None, places: int = 6) -> Decimal | None:
    if value is None:
        return None
    return Decimal(f"{value:.{places}f}")
