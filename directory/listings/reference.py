"""Reference data cached per process, keyed on the data version (`listings.refcache`): the
gazetteer, the category tree and the notices, labelled in one locale; the public lists of places
and categories and the notices in force are read from it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings import refcache
from directory.listings.texts import DEFAULT_SOURCE_LOCALE, LocalText, load_texts, resolve
from directory.listings.tree import lineage, subtree
from directory.listings.views import CategoryRef, CategoryView, NoticeView, PlaceRef, PlaceView


def as_float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def place_ids_within(session: Session, place: str) -> set[uuid.UUID]:
    """The place named by id or code and every place below it (a region and its cities)."""
    places = session.execute(
        select(m.Place.id, m.Place.code, m.Place.parent_id).where(m.Place.archived_at.is_(None))
    ).all()
    pid = as_uuid(place)
    root = next((p.id for p in places if p.id == pid or (p.code and p.code == place)), None)
    if root is None:
        return set()
    return subtree(root, ((p.id, p.parent_id) for p in places))


def list_places(session: Session, *, locale: str) -> list[PlaceView]:
    """Every place of the gazetteer (countries, regions, cities), named in `locale` (cached per
    process until the data version changes)."""
    return list(reference_data(session, locale).place_views)


def list_categories(session: Session, *, locale: str) -> list[CategoryView]:
    """The category tree (top level first, by position), labelled in `locale` (cached per process
    until the data version changes)."""
    return list(reference_data(session, locale).categories)


def notices_in_force(
    session: Session,
    *,
    locale: str,
    place_id: uuid.UUID | None = None,
    now: dt.datetime,
    everywhere: bool = False,
    timezone: str | None = None,
) -> list[NoticeView]:
    """Notices valid at `now`: everywhere-notices and, with `place_id`, those of that place and
    of every place above it (a city sees its region's and its country's). Most severe first.
    `everywhere=True`: every notice in force whatever its region (the home page, which does not
    know where the reader is; each notice names its region). The notices come from the reference
    cache (keyed on the data version); validity is checked against `now` on every call.
    `timezone`: the zone of notices whose region names none (nationwide: the directory's)."""
    ref = reference_data(session, locale)
    scope: set[uuid.UUID] = set()
    for row in rows_up(ref.places, place_id):
        if row.archived:
            break
        scope.add(row.id)
    rank = {"danger": 0, "warning": 1, "info": 2}
    out = [
        view
        for view, region_id in ref.notices
        if view.valid_from <= now
        and (view.valid_until is None or view.valid_until > now)
        and (everywhere or region_id is None or region_id in scope)
    ]
    out.sort(key=lambda v: (rank.get(v.severity, 3), -v.valid_from.timestamp()))
    if timezone:
        out = [v if v.timezone else replace(v, timezone=timezone) for v in out]
    return out


@dataclass(frozen=True, slots=True)
class PlaceRow:
    id: uuid.UUID
    code: str | None
    kind: str
    parent_id: uuid.UUID | None
    latitude: float | None
    longitude: float | None
    timezone: str | None
    archived: bool


def rows_up(places: dict[uuid.UUID, PlaceRow], place_id: uuid.UUID | None) -> list[PlaceRow]:
    """The place and every place above it, nearest first (`tree.lineage` over the cache)."""

    def parent_of(pid: uuid.UUID) -> uuid.UUID | None:
        row = places.get(pid)
        return row.parent_id if row is not None else None

    return [places[pid] for pid in lineage(place_id, parent_of) if pid in places]


def zone_above(places: dict[uuid.UUID, PlaceRow], place_id: uuid.UUID | None) -> str | None:
    """The time zone of a place, or of the nearest place above it that names one."""
    return next((row.timezone for row in rows_up(places, place_id) if row.timezone), None)


@dataclass(frozen=True, slots=True)
class TermRow:
    id: uuid.UUID
    code: str
    parent_id: uuid.UUID | None
    position: int
    icon: str | None
    archived: bool


@dataclass(frozen=True)
class ReferenceData:
    """The gazetteer, the category tree and the notices, labelled in one locale."""

    places: dict[uuid.UUID, PlaceRow]  # every place, archived ones too (old locations)
    place_refs: dict[uuid.UUID, PlaceRef]
    place_views: tuple[PlaceView, ...]  # `list_places`
    terms: dict[uuid.UUID, TermRow]
    category_refs: dict[uuid.UUID, CategoryRef]
    categories: tuple[CategoryView, ...]  # `list_categories`
    notices: tuple[tuple[NoticeView, uuid.UUID | None], ...]  # not archived, any validity


def reference_data(session: Session, locale: str) -> ReferenceData:
    return refcache.cached(
        session, "reference", (locale,), lambda: _build_reference(session, locale)
    )


def _build_reference(session: Session, locale: str) -> ReferenceData:
    place_rows = session.execute(
        select(
            m.Place.id,
            m.Place.code,
            m.Place.kind,
            m.Place.parent_id,
            m.Place.name,
            m.Place.source_locale,
            m.Place.latitude,
            m.Place.longitude,
            m.Place.timezone,
            m.Place.archived_at,
        )
    ).all()
    term_rows = session.execute(
        select(
            m.TaxonomyTerm.id,
            m.TaxonomyTerm.code,
            m.TaxonomyTerm.parent_id,
            m.TaxonomyTerm.name,
            m.TaxonomyTerm.description,
            m.TaxonomyTerm.language,
            m.TaxonomyTerm.position,
            m.TaxonomyTerm.icon,
            m.TaxonomyTerm.archived_at,
        )
    ).all()
    notice_rows = session.execute(
        select(
            m.Notice.id,
            m.Notice.region_id,
            m.Notice.severity,
            m.Notice.title,
            m.Notice.body,
            m.Notice.source_locale,
            m.Notice.valid_from,
            m.Notice.valid_until,
            m.Notice.is_demo,
            m.Notice.kind,
        ).where(m.Notice.archived_at.is_(None))
    ).all()
    pairs: list[tuple[str, uuid.UUID]] = [("place", p.id) for p in place_rows]
    pairs += [("taxonomy_term", t.id) for t in term_rows]
    pairs += [("notice", n.id) for n in notice_rows]
    tr, fb = load_texts(session, pairs=pairs, locale=locale)

    places: dict[uuid.UUID, PlaceRow] = {}
    place_refs: dict[uuid.UUID, PlaceRef] = {}
    views: list[PlaceView] = []
    for p in sorted(place_rows, key=lambda p: p.name):
        name = resolve(
            p.name,
            source_locale=p.source_locale,
            locale=locale,
            translated=tr.get(("place", p.id, "name")),
            fallback=fb.get(("place", p.id, "name")),
        )
        assert name is not None
        lat, lon = as_float(p.latitude), as_float(p.longitude)
        places[p.id] = PlaceRow(
            p.id, p.code, str(p.kind), p.parent_id, lat, lon, p.timezone, p.archived_at is not None
        )
        place_refs[p.id] = PlaceRef(p.id, p.code, str(p.kind), name)
        if p.archived_at is None:
            views.append(
                PlaceView(p.id, p.code, str(p.kind), name, p.parent_id, lat, lon, p.timezone)
            )
    views.sort(key=lambda v: (v.kind != "country", v.kind != "region", v.name.value.casefold()))

    def label(t: Any, fieldname: str = "name") -> LocalText | None:
        return resolve(
            getattr(t, fieldname),
            source_locale=t.language or DEFAULT_SOURCE_LOCALE,
            locale=locale,
            translated=tr.get(("taxonomy_term", t.id, fieldname)),
            fallback=fb.get(("taxonomy_term", t.id, fieldname)),
        )

    terms = {
        t.id: TermRow(t.id, t.code, t.parent_id, t.position, t.icon, t.archived_at is not None)
        for t in term_rows
    }
    category_refs: dict[uuid.UUID, CategoryRef] = {}
    for t in term_rows:
        parent = terms.get(t.parent_id) if t.parent_id else None
        category_refs[t.id] = CategoryRef(
            t.id,
            t.code,
            label(t) or LocalText(t.code, DEFAULT_SOURCE_LOCALE, True),
            t.icon,
            parent.code if parent else None,
        )
    by_parent: dict[uuid.UUID | None, list[Any]] = {}
    for t in sorted(term_rows, key=lambda t: (t.position, t.code)):
        if t.archived_at is None:
            by_parent.setdefault(t.parent_id, []).append(t)

    def build(term: Any, depth: int) -> CategoryView:
        kids = () if depth > 8 else tuple(build(c, depth + 1) for c in by_parent.get(term.id, []))
        return CategoryView(
            term.id,
            term.code,
            category_refs[term.id].label,
            label(term, "description"),
            term.icon,
            term.position,
            kids,
        )

    categories = tuple(build(t, 0) for t in by_parent.get(None, []))

    notices = []
    for n in notice_rows:
        title = resolve(
            n.title,
            source_locale=n.source_locale,
            locale=locale,
            translated=tr.get(("notice", n.id, "title")),
            fallback=fb.get(("notice", n.id, "title")),
        )
        assert title is not None
        body = resolve(
            n.body,
            source_locale=n.source_locale,
            locale=locale,
            translated=tr.get(("notice", n.id, "body")),
            fallback=fb.get(("notice", n.id, "body")),
        )
        live_region = n.region_id in places and not places[n.region_id].archived
        region = place_refs[n.region_id] if live_region else None  # archived: none
        view = NoticeView(
            n.id,
            str(n.severity),
            title,
            body,
            region,
            n.valid_from,
            n.valid_until,
            n.is_demo,
            str(n.kind),
            zone_above(places, n.region_id) if live_region else None,
        )
        notices.append((view, n.region_id))
    return ReferenceData(
        places=places,
        place_refs=place_refs,
        place_views=tuple(views),
        terms=terms,
        category_refs=category_refs,
        categories=categories,
        notices=tuple(notices),
    )
