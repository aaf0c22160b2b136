"""A search's filters: the facet tokens the index answers (category, place, language, amenities)
and the filters it cannot (open now), resolved into one `SearchQuery`, and the location-level
conditions that pick which location a card shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, or_, select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.hours_sql import closed_now, open_now
from directory.listings.reference import as_uuid, place_ids_within
from directory.listings.visibility import visible
from directory.search.amenities import AMENITY_FILTERS, FACET_FLAGS
from directory.search.match import Match, language_token, matching_source, place_token, term_token
from directory.search.params import SearchParams


def open_now_filter(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    """The "open now" filter: open by its hours at a live location, and not closed by status."""
    return and_(~closed_now(now), _location_match([open_now(session, now)]))


def location_filters(
    session: Session, params: SearchParams, now: dt.datetime
) -> list[ColumnElement[bool]]:
    """The location-level filters as SQL on `location`, to pick the location a card shows."""
    L = m.Location
    conds: list[ColumnElement[bool]] = []
    flags = ((getattr(params, a.param), getattr(L, a.column)) for a in AMENITY_FILTERS)
    conds += [col.is_(True) for wanted, col in flags if wanted]
    if params.has_capacity:
        conds.append(L.capacity_available > 0)
    if params.place:
        ids = place_ids_within(session, params.place)
        # (an unknown place matches nothing; `id IS NULL` keeps the EXISTS a proper join)
        conds.append(or_(L.place_id.in_(ids), L.region_id.in_(ids)) if ids else L.id.is_(None))
    if params.open_now:
        conds.append(open_now(session, now))
    return conds


def _location_match(conds: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """The service has a (live) location meeting every condition. Checked service by service
    as the search reads them (OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join
    that evaluates the conditions for every location in the directory first)."""
    return (
        select(literal_column("1"))
        .where(
            m.ServiceAtLocation.service_id == m.Service.id,
            m.ServiceAtLocation.archived_at.is_(None),
            m.Location.id == m.ServiceAtLocation.location_id,
            m.Location.archived_at.is_(None),
            *conds,
        )
        .offset(0)
        .exists()
    )


def facet_tokens(session: Session, params: SearchParams) -> list[str] | None:
    """The facet tokens the static filters ask for; None when one names nothing known."""
    tokens = [tok for attr, tok in FACET_FLAGS if getattr(params, attr)]
    if params.language and params.language.strip():
        tokens.append(language_token(params.language))
    if params.category:
        term = session.scalar(
            select(m.TaxonomyTerm.id).where(
                m.TaxonomyTerm.code == params.category, m.TaxonomyTerm.archived_at.is_(None)
            )
        )
        if term is None:
            return None
        tokens.append(term_token(term))
    if params.place:
        pid = as_uuid(params.place)
        place = session.scalar(
            select(m.Place.id).where(
                or_(m.Place.id == pid, m.Place.code == params.place)
                if pid
                else m.Place.code == params.place,
                m.Place.archived_at.is_(None),
            )
        )
        if place is None:
            return None
        tokens.append(place_token(place))
    return tokens


@dataclass(frozen=True)
class SearchQuery:
    """One search, resolved: what the index must match and the filters it cannot answer."""

    match: Match
    dynamic: tuple[ColumnElement[bool], ...]  # time-dependent filters (open now), on `service`
    impossible: bool


def base_select(session: Session, q: SearchQuery) -> tuple[Select[Any], Any]:
    """SELECT service.id FROM <index> JOIN service ... WHERE <match> AND <dynamic>, and the
    column that orders a tier (FTS5 rowid / sort_key: the same hash on both databases)."""
    src, sid, key, conds = matching_source(session, q.match)
    stmt = (
        select(m.Service.id)
        .select_from(src)
        .join(m.Service, m.Service.id == sid)
        .where(*conds, visible(), *q.dynamic)
    )
    return stmt, key
