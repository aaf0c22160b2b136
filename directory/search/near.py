"""Near-me: a page of matches ordered by distance from the reader's (already rounded) position,
measured to public points only (a confidential place counts from its city or region centre)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.visibility import visible
from directory.search.filters import SearchQuery, base_select
from directory.search.index import fts_rowid
from directory.search.match import dialect_name, document_matches, index_scans, sqlite_match

_EARTH_KM = 6371.0088
_KM_PER_DEG = 111.195
#: Near-me: the first bounding box (a page's worth of points in a city centre; an empty box in
#: the countryside costs one index probe), how fast later ones may grow, and the last one
#: before the whole map.
_FIRST_RADIUS_KM = 1.0
_MAX_GROWTH = 4.0
_LAST_RADIUS_KM = 1600.0
#: Approximate locations are shown rounded to 0.01°: their raw coordinates lie within this.
_APPROXIMATE_DEG = 0.005
#: SQLite near-me: up to this many matches, their index keys are read once (`_matching_keys`).
KEY_SET_MAX = 20_000
#: Up to this many matches (counted exactly), a distance sort measures all of them.
SPARSE_DISTANCE = 1000


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


Box = tuple[float, float, float, float]  # lat0, lat1, lon0, lon1


def _in_box(lat: Any, lon: Any, box: Box) -> ColumnElement[bool]:
    lat0, lat1, lon0, lon1 = box
    return and_(
        lat.between(_degrees(lat0, up=False), _degrees(lat1, up=True)),
        lon.between(_degrees(lon0, up=False), _degrees(lon1, up=True)),
    )


def _public_points(box: Box | None, inner: Box | None = None) -> Select[Any]:
    """(location_id, lat, lon) as the public may locate them, optionally inside a bounding box
    and outside an `inner` one (the ring a grown box adds): exact and approximate locations by
    their own coordinates (approximate rounded to 0.01°) via the (latitude, longitude) index,
    confidential ones by their city's (or region's) centre via (place_id, privacy)."""
    L, P = m.Location, m.Place
    lat = case((L.privacy == m.Privacy.approximate, func.round(L.latitude, 2)), else_=L.latitude)
    lon = case((L.privacy == m.Privacy.approximate, func.round(L.longitude, 2)), else_=L.longitude)
    own = select(
        L.id.label("location_id"), cast(lat, Float).label("lat"), cast(lon, Float).label("lon")
    ).where(
        L.archived_at.is_(None),
        L.privacy != m.Privacy.confidential,
        L.latitude.is_not(None),
        L.longitude.is_not(None),
    )
    # Confidential places count from their city's (else region's) centre. The places in the box
    # are found first (a small table), then their locations through the place/region indexes.
    centres = select(P.id).where(P.latitude.is_not(None), P.longitude.is_not(None))
    if box is not None:
        # (an approximate location's raw coordinates lie within 0.005° of its public point)
        own = own.where(_in_box(L.latitude, L.longitude, _widen(box, _APPROXIMATE_DEG)))
        centres = centres.where(_in_box(P.latitude, P.longitude, box))
    if inner is not None:
        own = own.where(~_in_box(L.latitude, L.longitude, _widen(inner, _APPROXIMATE_DEG)))
        centres = centres.where(~_in_box(P.latitude, P.longitude, inner))
    city = (
        select(
            L.id.label("location_id"),
            cast(P.latitude, Float).label("lat"),
            cast(P.longitude, Float).label("lon"),
        )
        .join(P, P.id == L.place_id)
        .where(
            L.place_id.in_(centres),
            L.archived_at.is_(None),
            L.privacy == m.Privacy.confidential,
        )
    )
    region = (
        select(
            L.id.label("location_id"),
            cast(P.latitude, Float).label("lat"),
            cast(P.longitude, Float).label("lon"),
        )
        .join(P, P.id == L.region_id)
        .where(
            L.region_id.in_(centres),
            L.place_id.is_(None),
            L.archived_at.is_(None),
            L.privacy == m.Privacy.confidential,
        )
    )
    return select(union_all(own, city, region).subquery())


def _degrees(value: float, *, up: bool) -> Any:
    """A box edge as a NUMERIC(9, 6) like the coordinate columns, rounded outwards (a float
    parameter would make PostgreSQL compare `latitude::float8`, which no index serves)."""
    micro = math.ceil(value * 1e6) if up else math.floor(value * 1e6)
    return literal(Decimal(micro).scaleb(-6), Numeric(9, 6))


def _widen(box: Box, deg: float) -> Box:
    return box[0] - deg, box[1] + deg, box[2] - deg, box[3] + deg


def _box(near: tuple[float, float], radius_km: float) -> Box:
    """The box holding every point within `radius_km` of `near` (longitude degrees measured at
    the box's edge nearer the pole, where they are shortest)."""
    lat, lon = near
    dlat = radius_km / _KM_PER_DEG
    edge = min(89.0, abs(lat) + dlat)
    dlon = min(180.0, radius_km / (_KM_PER_DEG * max(0.01, math.cos(math.radians(edge)))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _points(
    session: Session,
    box: Box | None,
    service_ids: Sequence[uuid.UUID] | Select[Any] | None = None,
    inner: Box | None = None,
) -> list[tuple[uuid.UUID, float, float]]:
    """(service_id, lat, lon) of every public point, in `box` (and not in `inner`) and/or of
    `service_ids` (a list, or a SELECT of ids the database runs once)."""
    pts = _public_points(box, inner).subquery()
    stmt = (
        select(m.ServiceAtLocation.service_id, pts.c.lat, pts.c.lon)
        .join(pts, pts.c.location_id == m.ServiceAtLocation.location_id)
        .where(m.ServiceAtLocation.archived_at.is_(None))
    )
    if isinstance(service_ids, Select):
        stmt = stmt.where(m.ServiceAtLocation.service_id.in_(service_ids.subquery().select()))
    elif service_ids is not None:
        stmt = stmt.where(m.ServiceAtLocation.service_id.in_(list(service_ids)))
    return [(r[0], float(r[1]), float(r[2])) for r in session.execute(stmt)]


def _nearest(
    rows: Sequence[tuple[uuid.UUID, float, float]], near: tuple[float, float]
) -> dict[uuid.UUID, float]:
    best: dict[uuid.UUID, float] = {}
    for sid, lat, lon in rows:
        d = haversine_km(near, (lat, lon))
        if d < best.get(sid, math.inf):
            best[sid] = d
    return best


def distance_page(
    session: Session,
    q: SearchQuery,
    near: tuple[float, float],
    offset: int,
    limit: int,
    total: int,
    exact: bool = True,
    *,
    alert_first: bool = False,
) -> list[uuid.UUID]:
    """One page by distance from `near` (public points only: a confidential place counts from
    its city or region centre). Few matches: all of them are measured. Many: a bounding box
    around `near` grows until the page is surely complete, and the points in it are checked
    against the query in distance order. `alert_first` (few matches): the services open
    during air-raid alerts first, each part by distance."""
    stmt, key = base_select(session, q)
    need = offset + limit
    if alert_first and exact and total <= SPARSE_DISTANCE:
        ordered = distance_page(session, q, near, 0, total, total, exact)
        during = (
            set(
                session.scalars(
                    select(m.Service.id).where(
                        m.Service.id.in_(ordered), m.Service.open_during_alert.is_(True)
                    )
                )
            )
            if ordered
            else set()
        )
        ordered.sort(key=lambda i: i not in during)  # stable: distance order inside each part
        return ordered[offset:need]
    if exact and total <= SPARSE_DISTANCE:
        with index_scans(session):
            # Every match is on the page or before it: all their ids are needed anyway.
            ids = list(session.scalars(stmt.order_by(key))) if total <= need else None
            # (the matches as a subquery: no statement with a thousand parameters to build)
            dist = _nearest(_points(session, None, stmt), near)
        # ties in id order, which is index order (sort_key = the id's first bytes)
        located = sorted(dist, key=lambda i: (dist[i], i))
        if ids is None:
            if len(located) >= need:
                return located[offset:need]
            with index_scans(session):  # then the matches without a public point
                ids = list(session.scalars(stmt.order_by(key)))
        return (located + [i for i in ids if i not in dist])[offset:need]
    # Grow a box around `near`, reading only the ring each step adds, until `need` matching
    # services lie within the circle the box holds (every point inside it has then been seen).
    keys = _matching_keys(session, q)
    best: dict[uuid.UUID, float] = {}  # nearest distance seen, per service
    verdict: dict[uuid.UUID, bool] = {}  # matches the query?
    # (distance, id): ties in id order, which is index order (sort_key = the id's first bytes)
    accepted: list[tuple[float, uuid.UUID]] = []
    radius: float | None = _FIRST_RADIUS_KM
    inner: Box | None = None
    while True:
        box = _box(near, radius) if radius is not None else None
        fresh = _nearest(_points(session, box, inner=inner), near)
        for sid, d in fresh.items():
            if d < best.get(sid, math.inf):
                best[sid] = d
        todo = sorted((best[sid], sid) for sid in fresh if sid not in verdict)
        done = False
        # Nearest first, in batches: a first small one (most listings match a plain near-me
        # search), then bigger ones.
        start, size = 0, 2 * need
        while True:
            batch = todo[start : start + size]
            ok = _filter_ids(session, q, [sid for _d, sid in batch], keys) if batch else set()
            verdict.update((sid, sid in ok) for _d, sid in batch)
            accepted = sorted((d, sid) for sid, d in best.items() if verdict.get(sid))
            start += size
            # Not judged yet: the rest of this ring (farther than this batch) and what lies
            # outside the box (farther than `radius`).
            bound = min(
                todo[start][0] if start < len(todo) else math.inf,
                radius if radius is not None else math.inf,
            )
            if len(accepted) >= need and accepted[need - 1][0] <= bound:
                done = True
                break
            if start >= len(todo):
                break
            size = 400
        if done or radius is None:
            break
        if radius >= _LAST_RADIUS_KM:
            radius, inner = None, box
            continue
        if len(accepted) >= need:  # enough, but some lie in the box's corners: just reach them
            radius, inner = max(accepted[need - 1][0], radius * 1.05), box
        else:  # matches within the circle so far tell how much bigger the next box must be
            within = sum(1 for d, _sid in accepted if d <= radius)
            growth = math.sqrt(need / max(within, 0.5)) * 1.25
            radius, inner = radius * min(_MAX_GROWTH, max(1.5, growth)), box
        radius = min(radius, _LAST_RADIUS_KM)
    if len(accepted) >= need:
        return [sid for _d, sid in accepted[offset:need]]
    located = [sid for _d, sid in accepted]
    rest = [i for i in session.scalars(stmt.order_by(key)) if i not in verdict]
    return (located + rest)[offset:need]


def _matching_keys(session: Session, q: SearchQuery) -> set[int] | None:
    """SQLite: the index keys (FTS5 rowids) of every match, when the query narrows the listings
    down to at most KEY_SET_MAX (near-me then tests candidates by a set look-up instead of
    reading their documents); None otherwise (every listing matches, or too many do: then
    most candidates pass and few need testing)."""
    if dialect_name(session) != "sqlite" or (not q.match.words and q.match.facets == ("all",)):
        return None
    # thousands of plain integers: straight from the driver, without per-row result handling
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            "SELECT rowid FROM service_fts WHERE service_fts MATCH ? LIMIT ?",
            (sqlite_match(q.match), KEY_SET_MAX + 1),
        )
        keys = {row[0] for row in cursor.fetchall()}
    finally:
        cursor.close()
    return keys if len(keys) <= KEY_SET_MAX else None


def _filter_ids(
    session: Session, q: SearchQuery, ids: Sequence[uuid.UUID], keys: set[int] | None = None
) -> set[uuid.UUID]:
    """Which of `ids` match the query, by the index's own rule (every word begins a document
    word, every facet present) and the time-dependent filters. PostgreSQL tests the stored
    vectors of just these rows; SQLite looks the candidates up in `keys` (`_matching_keys`)
    when it has them, else checks their stored documents (read only when there are words)."""
    if dialect_name(session) == "postgresql":
        stmt, _key = base_select(session, q)
        return set(session.scalars(stmt.where(m.Service.id.in_(list(ids)))))
    if keys is not None:
        found = [i for i in ids if fts_rowid(i) in keys]
        if not found:
            return set()
        return set(
            session.scalars(
                select(m.Service.id).where(m.Service.id.in_(found), visible(), *q.dynamic)
            )
        )
    S = m.ServiceSearch
    doc = S.document if q.match.words else literal("")
    rows = session.execute(
        select(S.service_id, doc, S.facets)
        .join(m.Service, m.Service.id == S.service_id)
        .where(S.service_id.in_(list(ids)), visible())
    ).all()
    ok = {sid for sid, text, facets in rows if document_matches(q.match, text, facets)}
    if ok and q.dynamic:
        ok = set(session.scalars(select(m.Service.id).where(m.Service.id.in_(ok), *q.dynamic)))
    return ok
