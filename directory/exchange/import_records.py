"""The importer's normalised records (one `Rec` per record of the file, a `Bundle` per
service) and the reference data an import loads once (`Context`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.moderation.fields import FIELDS, CleanMemo

NAMESPACE = uuid.UUID("4f1d7c8e-5d0b-4a57-9a8e-7c0a3e1f6b21")

# Fields compared and written, per record type (FIELDS minus references handled here).
REFS = {
    "organization_id",
    "service_id",
    "location_id",
    "place_id",
    "region_id",
    "alternative_service_id",
    "service_ids",
}


def fields_of(entity: str) -> list[str]:
    return [n for n in FIELDS[entity] if n not in REFS and n != "categories"]


@dataclass
class Rec:
    """One record to compare and maybe write: its id, the fields the file states, where it is."""

    entity: str
    id: uuid.UUID
    payload: dict[str, Any]
    file: str
    line: int | None
    path: str
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    external: tuple[str, str] | None = None
    parent: dict[str, uuid.UUID] = field(default_factory=dict)  # service_id / location_id ...
    # filled by the comparison
    state: str = "new"  # new | changed | unchanged
    existing_id: uuid.UUID | None = None
    changed_fields: list[str] = field(default_factory=list)
    base_version: int | None = None

    def fields(self) -> dict[str, Any]:
        """The payload without the importer's own `__` keys."""
        return {k: v for k, v in self.payload.items() if not k.startswith("__")}

    def changes(self) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
        """What a changed record updates: (fields, translations per field and locale)."""
        payload = self.fields()
        changes = {n: payload[n] for n in self.changed_fields if "@" not in n and n in payload}
        texts: dict[str, dict[str, str]] = {}
        for n in self.changed_fields:
            if "@" in n:
                name, locale = n.split("@", 1)
                texts.setdefault(name, {})[locale] = self.translations[name][locale]
        return changes, texts


@dataclass
class Bundle:
    service: Rec
    organization: Rec | None
    locations: list[Rec]
    children: list[Rec]  # address, phone, schedule, schedule_exception, language, ...
    categories: list[str] | None
    new_links: list[tuple[uuid.UUID, uuid.UUID]] = field(
        default_factory=list
    )  # (location, service)
    partial: bool = False  # from a spreadsheet: only the columns it has are compared
    archive: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    # The source's own ids of what the write path creates without one: the service-at-location
    # of each (location, service) link and the attribute of each category code (`import_keep`).
    link_ids: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = field(default_factory=dict)
    category_ids: dict[str, uuid.UUID] = field(default_factory=dict)


class _Places:
    def __init__(self, session: Session) -> None:
        t = m.Place.__table__
        rows = session.execute(select(t.c.id, t.c.kind, t.c.code, t.c.name, t.c.aliases)).all()
        self.ids = {r.id for r in rows}
        self.by_code = {r.code.casefold(): r.id for r in rows if r.code}
        self.by_name: dict[tuple[str, str], uuid.UUID] = {}
        for r in rows:
            kind = str(r.kind.value if hasattr(r.kind, "value") else r.kind)
            for alias in [r.name, *(r.aliases or "").split()]:
                self.by_name.setdefault((kind, alias.casefold()), r.id)

    def find(self, ref: Any, kind: str) -> uuid.UUID | None:
        if isinstance(ref, dict):
            code, pid, name = ref.get("code"), ref.get("id"), ref.get("name")
        else:
            code, pid, name = None, None, ref
        if isinstance(code, str) and code.casefold() in self.by_code:
            return self.by_code[code.casefold()]
        if isinstance(pid, str):
            try:
                if uuid.UUID(pid) in self.ids:
                    return uuid.UUID(pid)
            except ValueError:
                pass
        if isinstance(name, str) and name.strip():
            return self.by_name.get((kind, name.strip().casefold()))
        return None


class Context:
    """Reference data loaded once per import, and the rules shared by all batches."""

    def __init__(self, session: Session, *, source: str | None, fmt: str, now: dt.datetime) -> None:
        self.session = session
        self.source = source
        self.format = fmt
        self.now = now
        self.places = _Places(session)
        term = m.TaxonomyTerm.__table__
        self.terms = {r.code: r.id for r in session.execute(select(term.c.code, term.c.id))}
        self.term_ids = {v: k for k, v in self.terms.items()}
        # Kept referenced: the write path's rules look locales up with session.get, which
        # answers from the identity map only while the objects are alive.
        self._locale_rows = list(session.scalars(select(m.Locale)))
        # Same for places (regions and cities: every change's region scope and place references).
        self._place_rows = list(session.scalars(select(m.Place)))
        self.locales = {row.code for row in self._locale_rows}
        self.seen: dict[str, set[uuid.UUID]] = defaultdict(set)
        # the write path's `clean`, remembered for short repeated values; references are
        # looked up each time
        self.clean = CleanMemo(
            session, now=self.now, max_len=40, skip_kinds=frozenset({"uuid", "uuids", "codes"})
        )

    def derived_id(self, entity: str, key: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{self.source or ''}|{entity}|{key}")
