"""Reader-facing texts in the reader's locale, with the fallback rule of the data model.

A record's own column holds its text in the record's `source_locale`; `translation` rows hold the
other locales. A reader gets the requested locale, else the first of the fallback chain that has
the text (`DIRECTORY_FALLBACK_LOCALES`, default "en": a Polish reader of an Arabic listing with an
English translation reads English), else the source-locale text; anything not in the requested
locale is marked `fallback` (pages give it its own lang/dir).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from directory.errors import NotFound, ValidationFailed
from directory.listings import models as m

#: entity_type (as stored in translation.entity_type) → model. The names are the table names.
ENTITY_MODELS: dict[str, type[Any]] = {
    "organization": m.Organization,
    "service": m.Service,
    "location": m.Location,
    "place": m.Place,
    "notice": m.Notice,
    "taxonomy_term": m.TaxonomyTerm,
    "schedule_exception": m.ScheduleException,
    "schedule": m.Schedule,
    "accessibility": m.Accessibility,
    "required_document": m.RequiredDocument,
    "phone": m.Phone,
    "language": m.Language,
}
#: Records without a `source_locale` column are written in this locale.
DEFAULT_SOURCE_LOCALE = "en"

_chain: tuple[str, ...] = ("en",)


def set_fallback_locales(locales: Iterable[str]) -> None:
    """The locales tried, in order, when a text is missing in the reader's: set once from the
    settings (`DIRECTORY_FALLBACK_LOCALES`) by `create_app`; the source locale always comes last."""
    global _chain
    _chain = tuple(dict.fromkeys(code.strip() for code in locales if code.strip()))


def fallback_locales(locale: str) -> tuple[str, ...]:
    """The fallback chain for a reader of `locale` (their own locale left out)."""
    return tuple(code for code in _chain if code != locale)


@dataclass(frozen=True, slots=True)
class LocalText:
    value: str
    locale: str
    fallback: bool  # True: not in the requested locale (shown in `locale`, marked as such)


def _model(entity_type: str) -> type[Any]:
    try:
        return ENTITY_MODELS[entity_type]
    except KeyError:
        raise ValidationFailed(
            [{"path": "entity_type", "message": "unknown entity type"}]
        ) from None


def _column(model: type[Any], field: str) -> Any:
    col = getattr(model, field, None)
    if col is None or field in {"id", "source_locale"} or not hasattr(col, "property"):
        raise ValidationFailed([{"path": "field", "message": f"{field!r} is not a text field"}])
    return col


def load_translations(
    session: Session, *, pairs: Iterable[tuple[str, uuid.UUID]], locale: str
) -> dict[tuple[str, uuid.UUID, str], str]:
    """All translations in `locale` of the given (entity_type, id) records, in one query."""
    by_type: dict[str, set[uuid.UUID]] = {}
    for entity_type, entity_id in pairs:
        by_type.setdefault(entity_type, set()).add(entity_id)
    if not by_type:
        return {}
    ids = {i for group in by_type.values() for i in group}
    rows = session.execute(
        _TRANSLATIONS, {"types": list(by_type), "ids": list(ids), "locale": locale}
    )
    return {(t, i, f): v for t, i, f, v in rows if t in by_type and i in by_type[t]}


# Built once (expanding IN parameters): a read path calls this on every page.
_TRANSLATIONS = select(
    m.Translation.entity_type,
    m.Translation.entity_id,
    m.Translation.field,
    m.Translation.value,
).where(
    # entity_type first: the (entity_type, entity_id) index serves both IN lists
    m.Translation.entity_type.in_(bindparam("types", expanding=True)),
    m.Translation.entity_id.in_(bindparam("ids", expanding=True)),
    m.Translation.locale == bindparam("locale"),
)


def load_texts(
    session: Session, *, pairs: Iterable[tuple[str, uuid.UUID]], locale: str
) -> tuple[
    dict[tuple[str, uuid.UUID, str], str], dict[tuple[str, uuid.UUID, str], tuple[str, str]]
]:
    """`load_translations` in `locale`, and for each text its translation in the first locale of
    the fallback chain that has one ({(entity_type, id, field): (locale, text)}), in one query."""
    chain = fallback_locales(locale)
    by_type: dict[str, set[uuid.UUID]] = {}
    for entity_type, entity_id in pairs:
        by_type.setdefault(entity_type, set()).add(entity_id)
    if not by_type:
        return {}, {}
    ids = {i for group in by_type.values() for i in group}
    rows = session.execute(
        _TRANSLATIONS_IN, {"types": list(by_type), "ids": list(ids), "locales": [locale, *chain]}
    )
    own: dict[tuple[str, uuid.UUID, str], str] = {}
    best: dict[tuple[str, uuid.UUID, str], tuple[str, str]] = {}
    rank = {code: i for i, code in enumerate(chain)}
    for t, i, f, loc, v in rows:
        if t not in by_type or i not in by_type[t]:
            continue
        key = (t, i, f)
        if loc == locale:
            own[key] = v
        elif loc in rank and (key not in best or rank[loc] < rank[best[key][0]]):
            best[key] = (loc, v)
    return own, best


_TRANSLATIONS_IN = select(
    m.Translation.entity_type,
    m.Translation.entity_id,
    m.Translation.field,
    m.Translation.locale,
    m.Translation.value,
).where(
    m.Translation.entity_type.in_(bindparam("types", expanding=True)),
    m.Translation.entity_id.in_(bindparam("ids", expanding=True)),
    m.Translation.locale.in_(bindparam("locales", expanding=True)),
)


def resolve(
    value: str | None,
    *,
    source_locale: str | None,
    locale: str,
    translated: str | None,
    fallback: tuple[str, str] | None = None,
) -> LocalText | None:
    """The fallback rule for one text: the translation in the reader's locale, else the first
    locale of the fallback chain that has it (the source column when the source locale comes
    first; `fallback` is the best translation row of the chain, from `load_texts`), else
    the source text — all but the first marked fallback."""
    source = source_locale or DEFAULT_SOURCE_LOCALE
    if locale == source and value:
        return LocalText(value, source, False)
    if translated:
        return LocalText(translated, locale, False)
    if fallback is not None:
        for code in fallback_locales(locale):
            if code == source and value:
                break
            if code == fallback[0]:
                return LocalText(fallback[1], code, True)
    if value:
        return LocalText(value, source, True)
    return None


def pick(
    translations: Mapping[tuple[str, uuid.UUID, str], str],
    entity_type: str,
    record: Any,
    field: str,
    locale: str,
) -> LocalText | None:
    """`resolve` for an ORM record whose translations were loaded by `load_translations`."""
    return resolve(
        getattr(record, field),
        source_locale=getattr(record, "source_locale", None),
        locale=locale,
        translated=translations.get((entity_type, record.id, field)),
    )


def texts_for(
    session: Session,
    *,
    entity_type: str,
    ids: Iterable[uuid.UUID],
    fields: Iterable[str],
    locale: str,
) -> dict[tuple[uuid.UUID, str], LocalText]:
    """Texts of `fields` of the records `ids` in `locale` (two queries, whatever the number)."""
    model = _model(entity_type)
    ids = list(dict.fromkeys(ids))
    fields = list(fields)
    if not ids or not fields:
        return {}
    cols = [_column(model, f) for f in fields]
    source_col = getattr(model, "source_locale", None)
    stmt = select(model.id, *([source_col] if source_col is not None else []), *cols).where(
        model.id.in_(ids)
    )
    pairs = [(entity_type, i) for i in ids]
    translations, fallbacks = load_texts(session, pairs=pairs, locale=locale)
    out: dict[tuple[uuid.UUID, str], LocalText] = {}
    for row in session.execute(stmt):
        rid = row[0]
        source = row[1] if source_col is not None else DEFAULT_SOURCE_LOCALE
        values = row[2:] if source_col is not None else row[1:]
        for field, value in zip(fields, values, strict=True):
            text = resolve(
                value,
                source_locale=source,
                locale=locale,
                translated=translations.get((entity_type, rid, field)),
                fallback=fallbacks.get((entity_type, rid, field)),
            )
            if text is not None:
                out[(rid, field)] = text
    return out


def set_text(
    session: Session,
    *,
    entity_type: str,
    entity_id: uuid.UUID,
    field: str,
    locale: str,
    value: str,
) -> None:
    """Write one text: the record's column in its source locale, else a `translation` row."""
    model = _model(entity_type)
    _column(model, field)
    record = session.get(model, entity_id)
    if record is None:
        raise NotFound(f"{entity_type} {entity_id} not found")
    source = getattr(record, "source_locale", DEFAULT_SOURCE_LOCALE)
    if locale == source:
        setattr(record, field, value)
        session.flush()
        return
    row = session.scalars(
        select(m.Translation).where(
            m.Translation.entity_type == entity_type,
            m.Translation.entity_id == entity_id,
            m.Translation.field == field,
            m.Translation.locale == locale,
        )
    ).one_or_none()
    if row is None:
        session.add(
            m.Translation(
                entity_type=entity_type,
                entity_id=entity_id,
                field=field,
                locale=locale,
                value=value,
            )
        )
    else:
        row.value = value
    session.flush()
