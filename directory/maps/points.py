"""Public points for maps: the markers of a result page and the interactive map's data.

Confidential places never leave here: the rows are read with `privacy <> 'confidential'` in
SQL, so neither a point, nor a cluster's count, nor its position can include one; approximate
places are given (and clustered) by their coordinates rounded as `listings.privacy` rounds
them (2 decimals, ~1 km).

The interactive map asks for the matches of the reader's search inside the visible box
(`map_data`): up to POINT_LIMIT of them come as points, more as clusters counted by the
database on a grid of the zoom level's size (one GROUP BY over the (latitude, longitude) index:
fast at 100,000 services). Matching uses the search index through its public names
(`directory.search`), the same rule as the list; "open now" is answered by the list's own
search (`listings.queries.search_services`), whose answer is capped at its count cap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Integer, Numeric, Select, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.privacy import public_coordinates
from directory.maps.svg import Marker
from directory.search.keys import search_terms
from directory.search.match import (
    dialect_name,
    language_token,
    matching_source,
    place_token,
    prepare,
    term_token,
)

#: More matches than this in the visible box come as clusters.
POINT_LIMIT = 400
#: Grid cells per 256-pixel tile edge when clustering (a cell is ~64 px on screen).
CELLS_PER_TILE = 4
#: "Open now" is evaluated listing by listing: the map shows at most this many of them (the
#: list itself counts up to 200 and then says "more than 200").
OPEN_NOW_LIMIT = 200

Box = tuple[float, float, float, float]  # west, south, east, north

_AMENITY_TOKENS = (
    ("wheelchair", "wheelchair"),
    ("pets", "pets"),
    ("women_children", "womenchildren"),
    ("heating", "heating"),
    ("power", "power"),
    ("water", "water"),
    ("internet", "internet"),
    ("has_capacity", "capacity"),
    ("free", "free"),
)
_HIDDEN = (m.ServiceStatus.inactive, m.ServiceStatus.defunct)


def page_markers(cards: Sequence[Any], *, first_number: int, locale: str) -> list[Marker]:
    """The numbered markers of a result page: card i is number first_number + i, and only cards
    whose place is public get a marker (a confidential one keeps its number in the list)."""
    out = []
    for i, card in enumerate(cards):
        loc = card.location
        if loc is None or loc.latitude is None or loc.longitude is None:
            continue
        out.append(
            Marker(
                lat=loc.latitude,
                lon=loc.longitude,
                approximate=bool(loc.approximate),
                label=str(card.name.value),
                number=first_number + i,
                href=f"/{locale}/services/{card.id}",
            )
        )
    return out


def location_markers(locations: Sequence[Any], *, label: str) -> list[Marker]:
    """A service page's public places (one marker each; numbered when there are several)."""
    located = [loc for loc in locations if loc.latitude is not None and loc.longitude is not None]
    return [
        Marker(
            lat=loc.latitude,
            lon=loc.longitude,
            approximate=bool(loc.approximate),
            label=str(loc.name.value) if loc.name else label,
            number=i + 1 if len(located) > 1 else None,
        )
        for i, loc in enumerate(located)
    ]


# --- the interactive map's data -------------------------------------------------------------------


@dataclass(frozen=True)
class MapData:
    points: list[tuple[uuid.UUID, float, float, bool]]  # service, lat, lon, approximate
    clusters: list[tuple[float, float, int]]  # lat, lon, count
    total: int  # public places of the matches in the box

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "points": [[str(s), lat, lon, int(a)] for s, lat, lon, a in self.points],
            "clusters": [[round(lat, 5), round(lon, 5), n] for lat, lon, n in self.clusters],
        }


def parse_box(value: str) -> Box | None:
    """'west,south,east,north' in degrees → a box (clamped to the world), else None."""
    try:
        w, s, e, n = (float(v) for v in value.split(",", 3))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or s > n:
        return None
    w, e = max(-180.0, w), min(180.0, e)
    s, n = max(-90.0, s), min(90.0, n)
    if w > e:
        return None
    return w, s, e, n


def _facets(session: Session, params: Any) -> list[str] | None:
    """The search index's facet tokens of the static filters (as the list's search builds
    them); None when a filter names nothing known (nothing matches)."""
    tokens = [tok for attr, tok in _AMENITY_TOKENS if getattr(params, attr)]
    if params.language:
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
        try:
            pid: uuid.UUID | None = uuid.UUID(params.place)
        except ValueError:
            pid = None
        cond = m.Place.code == params.place
        place = session.scalar(
            select(m.Place.id).where(
                or_(m.Place.id == pid, cond) if pid else cond, m.Place.archived_at.is_(None)
            )
        )
        if place is None:
            return None
        tokens.append(place_token(place))
    return tokens


def _matching(session: Session, params: Any, *, stale_after_days: int) -> Select[Any] | None | bool:
    """The matching services: a SELECT of ids, None for every listed service, False for none."""
    if params.open_now:
        from directory.listings import queries

        ids: list[uuid.UUID] = []
        page = 1
        while len(ids) < OPEN_NOW_LIMIT:
            found = queries.search_services(
                session,
                dataclasses.replace(params, page=page, per_page=100),
                stale_after_days=stale_after_days,
            )
            ids += [card.id for card in found.items]
            if not found.next_cursor or not found.items:
                break
            page += 1
        return select(m.Service.id).where(m.Service.id.in_(ids)) if ids else False
    words = search_terms(params.q)[:12]
    facets = _facets(session, params)
    if facets is None:
        return False
    if not words and not facets:
        return None
    match = prepare(session, words, facets)
    if match.impossible:
        return False
    src, sid, _key, conds = matching_source(session, match)
    return select(sid).select_from(src).where(*conds)


def _deg(value: float, *, up: bool) -> Any:
    """A box edge as NUMERIC(9, 6) like the coordinate columns, rounded outwards (a float would
    make PostgreSQL compare `latitude::float8`, which no index serves)."""
    micro = math.ceil(value * 1e6) if up else math.floor(value * 1e6)
    return literal(Decimal(micro).scaleb(-6), Numeric(9, 6))


def _rows(session: Session, box: Box, matching: Select[Any] | None) -> Select[Any]:
    """(service_id, lat, lon, approximate) of every public place in `box`: public coordinates
    in SQL (approximate ones rounded to 2 decimals; confidential ones not read at all)."""
    L, SAL, S = m.Location, m.ServiceAtLocation, m.Service
    approx = L.privacy == m.Privacy.approximate
    lat = cast(case((approx, func.round(L.latitude, 2)), else_=L.latitude), Float)
    lon = cast(case((approx, func.round(L.longitude, 2)), else_=L.longitude), Float)
    west, south, east, north = box
    pad = 0.005  # an approximate place's raw coordinates lie within this of its public point
    stmt = (
        select(
            SAL.service_id.label("sid"),
            lat.label("lat"),
            lon.label("lon"),
            approx.label("approx"),
        )
        .join(L, L.id == SAL.location_id)
        .join(S, S.id == SAL.service_id)
        .where(
            SAL.archived_at.is_(None),
            L.archived_at.is_(None),
            L.privacy != m.Privacy.confidential,
            L.latitude.is_not(None),
            L.longitude.is_not(None),
            L.latitude.between(_deg(south - pad, up=False), _deg(north + pad, up=True)),
            L.longitude.between(_deg(west - pad, up=False), _deg(east + pad, up=True)),
            S.archived_at.is_(None),
            S.status.notin_(_HIDDEN),
        )
    )
    if matching is not None:
        stmt = stmt.where(SAL.service_id.in_(matching.scalar_subquery()))
    return stmt


def map_data(
    session: Session,
    params: Any,
    box: Box,
    zoom: int,
    *,
    stale_after_days: int,
    now: dt.datetime | None = None,
) -> MapData:
    """The matches of `params` (a `listings.queries.SearchParams`) inside `box`, as points or,
    when there are more than POINT_LIMIT, as grid clusters for `zoom` (0-20)."""
    del now
    matching = _matching(session, params, stale_after_days=stale_after_days)
    if matching is False:
        return MapData([], [], 0)
    assert not isinstance(matching, bool)  # noqa: S101 - narrowed above (True is never returned)
    rows = _rows(session, box, matching).subquery()
    west, south, east, north = box
    inside = (
        rows.c.lat.between(south, north),
        rows.c.lon.between(west, east),
    )
    total = int(session.scalar(select(func.count()).select_from(rows).where(*inside)) or 0)
    if total <= POINT_LIMIT:
        points = []
        for sid, lat, lon, approx in session.execute(select(rows).where(*inside)):
            # (the SQL above already rounds; the rule is applied once more as the one truth)
            plat, plon = public_coordinates(
                m.Privacy.approximate if approx else m.Privacy.exact, lat, lon
            )
            if plat is None or plon is None:
                continue
            points.append((sid, float(plat), float(plon), bool(approx)))
        return MapData(points, [], total)
    cell = 360.0 / (2 ** max(0, min(20, zoom))) / CELLS_PER_TILE
    gy: Any
    gx: Any
    if dialect_name(session) == "postgresql":
        gy = func.floor((rows.c.lat + 90.0) / cell)
        gx = func.floor((rows.c.lon + 180.0) / cell)
    else:
        gy = cast((rows.c.lat + 90.0) / cell, Integer)
        gx = cast((rows.c.lon + 180.0) / cell, Integer)
    stmt = (
        select(func.avg(rows.c.lat), func.avg(rows.c.lon), func.count())
        .where(*inside)
        .group_by(gy, gx)
    )
    clusters = [(float(a), float(b), int(n)) for a, b, n in session.execute(stmt)]
    return MapData([], clusters, total)
