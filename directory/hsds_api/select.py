"""Which records a request means: the HSDS filters (cumulative, as the API reference requires),
pages in id order, whole collections in keyset batches, and `modified_after` — every record
that changed itself or in anything it nests (organisation, places, phones, hours, categories,
translations) on or after the time, and the records archived since then as tombstones."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from directory.listings import models as m
from directory.search.keys import search_terms
from directory.search.match import matching_source, prepare

BATCH = 500
#: A SELECT of (id, archived_at, ...) rows (SQLAlchemy's Select is variadic).
Query = Any
_M_PER_DEG = 111_195.0


@dataclass(frozen=True)
class Filters:
    search: str = ""
    organization_id: uuid.UUID | None | bool = None  # False: given, matches nothing
    taxonomy_term_id: uuid.UUID | None | bool = None
    taxonomy_id: uuid.UUID | None | bool = None
    modified_after: dt.datetime | None = None


def _changed_services(t: dt.datetime) -> Any:
    """Ids of services changed on or after `t`, themselves or in anything they nest."""
    S, SAL, L = m.Service, m.ServiceAtLocation, m.Location
    located = select(SAL.service_id).where(
        SAL.location_id.in_(
            union(
                select(L.id).where(L.updated_at >= t),
                *[
                    select(x.location_id).where(x.updated_at >= t, x.location_id.is_not(None))
                    for x in (m.Phone, m.Schedule, m.Address, m.Accessibility, m.ScheduleException)
                ],
                select(m.Translation.entity_id).where(
                    m.Translation.updated_at >= t, m.Translation.entity_type == "location"
                ),
            )
        )
    )
    return union(
        select(S.id).where(S.updated_at >= t),
        select(SAL.service_id).where(SAL.updated_at >= t),
        located,
        *[
            select(x.service_id).where(x.updated_at >= t, x.service_id.is_not(None))
            for x in (m.Phone, m.Schedule, m.Language, m.RequiredDocument, m.ScheduleException)
        ],
        select(m.Attribute.link_id).where(
            m.Attribute.updated_at >= t, m.Attribute.link_entity == "service"
        ),
        select(S.id).where(
            S.organization_id.in_(select(m.Organization.id).where(m.Organization.updated_at >= t))
        ),
        select(m.Translation.entity_id).where(
            m.Translation.updated_at >= t, m.Translation.entity_type == "service"
        ),
        select(S.id).where(
            S.organization_id.in_(
                select(m.Translation.entity_id).where(
                    m.Translation.updated_at >= t, m.Translation.entity_type == "organization"
                )
            )
        ),
    )


def _search(session: Session, text: str) -> ColumnElement[bool] | None:
    """The search index's match (`directory.search`), as on the pages; None: matches nothing."""
    words = search_terms(text)[:12]
    if not words:
        return literal(True)
    match = prepare(session, words)
    if match.impossible:
        return None
    src, sid, _key, conds = matching_source(session, match)
    return m.Service.id.in_(select(sid).select_from(src).where(*conds))


def service_conditions(session: Session, f: Filters) -> list[ColumnElement[bool]]:
    """WHERE of `select(Service)`: live services matching `f`, and with `modified_after` the
    services archived since then too (they become tombstones)."""
    S = m.Service
    conds: list[ColumnElement[bool]] = []
    for given in (f.organization_id, f.taxonomy_term_id, f.taxonomy_id):
        if given is False:
            return [false()]
    if f.search:
        matched = _search(session, f.search)
        if matched is None:
            return [false()]
        conds.append(matched)
    if isinstance(f.organization_id, uuid.UUID):
        conds.append(S.organization_id == f.organization_id)
    A, T = m.Attribute, m.TaxonomyTerm
    if isinstance(f.taxonomy_term_id, uuid.UUID):
        conds.append(
            exists().where(
                A.link_id == S.id,
                A.link_entity == "service",
                A.archived_at.is_(None),
                A.taxonomy_term_id == f.taxonomy_term_id,
            )
        )
    if isinstance(f.taxonomy_id, uuid.UUID):
        conds.append(
            exists().where(
                A.link_id == S.id,
                A.link_entity == "service",
                A.archived_at.is_(None),
                A.taxonomy_term_id == T.id,
                T.taxonomy_id == f.taxonomy_id,
            )
        )
    if f.modified_after is not None:
        t = f.modified_after
        conds.append(
            or_(
                and_(S.archived_at.is_(None), S.id.in_(_changed_services(t))),
                S.archived_at >= t,
            )
        )
    else:
        conds.append(S.archived_at.is_(None))
    return conds


def page(
    session: Session, stmt: Query, order: Any, *, offset: int, limit: int
) -> tuple[int, list[Any]]:
    """(total, rows of one page) of `stmt`, in `order`: one query (the total as a window
    count beside each row); a second one only for a page past the end."""
    counted = stmt.add_columns(func.count().over().label("total_items"))
    rows = list(session.execute(counted.order_by(order).offset(offset).limit(limit)).all())
    if rows:
        return int(rows[0].total_items), rows
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    return total, []


def batches(session: Session, stmt: Query, key: Any) -> Iterator[list[Any]]:
    """All rows of `stmt` in keyset batches on `key` (flat memory, consistent order)."""
    last = None
    while True:
        q = stmt.order_by(key).limit(BATCH)
        if last is not None:
            q = q.where(key > last)
        rows = list(session.execute(q).all())
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def services(session: Session, f: Filters) -> Query:
    S = m.Service
    return select(S.id, S.archived_at, S.name).where(*service_conditions(session, f))


def organizations(session: Session, f: Filters) -> Query:
    Org, S = m.Organization, m.Service
    stmt = select(Org.id, Org.archived_at, Org.name)
    if f.search:
        stmt = stmt.where(func.lower(Org.name).contains(f.search.lower()))
    if f.taxonomy_term_id is not None or f.taxonomy_id is not None:
        inner = Filters(taxonomy_term_id=f.taxonomy_term_id, taxonomy_id=f.taxonomy_id)
        stmt = stmt.where(
            Org.id.in_(select(S.organization_id).where(*service_conditions(session, inner)))
        )
    if f.modified_after is not None:
        t = f.modified_after
        return stmt.where(
            or_(
                and_(Org.archived_at.is_(None), Org.updated_at >= t),
                Org.archived_at >= t,
            )
        )
    return stmt.where(Org.archived_at.is_(None))


def _public_lat_lon() -> tuple[Any, Any]:
    """The coordinates the public sees (`listings.privacy`): exact as stored, approximate
    rounded to 2 decimals, confidential none — in SQL, so no filter can probe a hidden place."""
    L = m.Location
    exact = L.privacy == m.Privacy.exact
    approx = L.privacy == m.Privacy.approximate
    lat = case((exact, L.latitude), (approx, func.round(L.latitude, 2)), else_=None)
    lon = case((exact, L.longitude), (approx, func.round(L.longitude, 2)), else_=None)
    return lat, lon


def _postcode_key(value: Any) -> Any:
    return func.upper(func.replace(value, " ", ""))


def _near_postcode(
    session: Session, postcode: str, proximity: float | None
) -> ColumnElement[bool] | None:
    """Locations with that postcode (only exact places publish one), or with `proximity`,
    those whose public coordinates lie within that many metres of the postcode's centre."""
    L, Ad = m.Location, m.Address
    code = postcode.replace(" ", "").upper()
    with_code = (
        select(L.id)
        .join(Ad, and_(Ad.location_id == L.id, Ad.archived_at.is_(None)))
        .where(
            L.archived_at.is_(None),
            L.privacy == m.Privacy.exact,
            _postcode_key(Ad.postal_code) == code,
        )
    )
    if proximity is None:
        return m.ServiceAtLocation.location_id.in_(with_code)
    centre = session.execute(
        select(func.avg(L.latitude), func.avg(L.longitude)).where(
            L.id.in_(with_code), L.latitude.is_not(None), L.longitude.is_not(None)
        )
    ).one()
    if centre[0] is None:
        return None
    lat0, lon0 = float(centre[0]), float(centre[1])
    lat, lon = _public_lat_lon()
    dy = (lat - lat0) * _M_PER_DEG
    dx = (lon - lon0) * (_M_PER_DEG * max(0.01, math.cos(math.radians(lat0))))
    deg = proximity / _M_PER_DEG
    near = (
        select(L.id)
        .where(
            L.archived_at.is_(None),
            lat.between(lat0 - deg, lat0 + deg),
            dy * dy + dx * dx <= proximity * proximity,
        )
        .where(L.privacy != m.Privacy.confidential)
    )
    return m.ServiceAtLocation.location_id.in_(near)


def service_at_locations(
    session: Session, f: Filters, *, postcode: str | None, proximity: float | None
) -> Query:
    """SAL rows (id, archived_at, service id): live ones of live services at live places that
    match; with `modified_after` also those archived since (tombstones)."""
    SAL, S, L = m.ServiceAtLocation, m.Service, m.Location
    live_service = Filters(
        search=f.search,
        organization_id=f.organization_id,
        taxonomy_term_id=f.taxonomy_term_id,
        taxonomy_id=f.taxonomy_id,
    )
    svc = select(S.id).where(*service_conditions(session, live_service))
    live = and_(
        SAL.archived_at.is_(None),
        SAL.service_id.in_(svc),
        SAL.location_id.in_(select(L.id).where(L.archived_at.is_(None))),
    )
    if f.modified_after is not None:
        changed = Filters(modified_after=f.modified_after)
        live = and_(
            live,
            or_(
                SAL.updated_at >= f.modified_after,
                SAL.service_id.in_(
                    select(S.id).where(
                        *service_conditions(session, changed), S.archived_at.is_(None)
                    )
                ),
            ),
        )
        cond: ColumnElement[bool] = or_(live, SAL.archived_at >= f.modified_after)
    else:
        cond = live
    stmt = select(SAL.id, SAL.archived_at, SAL.service_id, SAL.location_id).where(cond)
    if postcode:
        near = _near_postcode(session, postcode, proximity)
        stmt = stmt.where(near if near is not None else false())
    return stmt


def ids_of(rows: Sequence[Any]) -> list[uuid.UUID]:
    return [r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])) for r in rows]
