"""Row building for demo and generated data: plain dicts per table, written in bulk
(`directory.fast_insert.insert_rows`: SQLite `executemany`, PostgreSQL COPY), so that 100,000
services load in seconds.

Both the hand-written demo (`loader.py`) and the synthetic generator (`generate.py`) use it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.fast_insert import insert_rows
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
