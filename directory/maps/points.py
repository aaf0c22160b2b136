"""Public points for maps: the markers of a result page and the interactive map's data.

Confidential places never leave here: the rows are read with `privacy <> 'confidential'` in
SQL, so neither a point, nor a cluster's count, nor its position can include one; approximate
places are given (and clustered) by their coordinates rounded as `listings.privacy` rounds
them (2 decimals, ~1 km).

The interactive map asks for the matches of the reader's search inside the visible box
(`map_data`): up to POINT_LIMIT of them come as points, more as clusters counted on a grid of
the zoom level's size. Every public place is read once per data version and kept in memory
(`public_points`), so a request costs one look-up of the matching ids in the search index
(through its public names, `directory.search`: the same rule as the list) and a pass over the
places in memory. "Open now" is answered by the list's own search
(`listings.queries.search_services`), up to OPEN_NOW_LIMIT places.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings import refcache
from directory.listings.privacy import public_coordinates
from directory.maps.svg import Marker
from directory.search.keys import search_terms
from directory.search.match import (
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
#: list itself counts up to 200 and then says "more than 200"); one page of the list's search.
OPEN_NOW_LIMIT = 100

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


Point = tuple[uuid.UUID, float, float, bool]  # service, public lat, public lon, approximate


def public_points(session: Session) -> tuple[Point, ...]:
    """Every public place of every listed service, by `listings.privacy`'s rule: read once per
    data version and kept in this process (`listings.refcache`), so a map request only filters
    and counts in memory (reading 100,000 places through their joins took seconds per request).
    Confidential places are not read at all."""
    return refcache.cached(session, "map-points", (), lambda: _read_points(session))


def _read_points(session: Session) -> tuple[Point, ...]:
    L, SAL, S = m.Location, m.ServiceAtLocation, m.Service
    hidden = set(
        session.scalars(select(S.id).where(or_(S.archived_at.is_not(None), S.status.in_(_HIDDEN))))
    )
    rows = session.execute(
        select(SAL.service_id, L.latitude, L.longitude, L.privacy)
        .join(L, L.id == SAL.location_id)
        .where(
            SAL.archived_at.is_(None),
            L.archived_at.is_(None),
            L.privacy != m.Privacy.confidential,
            L.latitude.is_not(None),
            L.longitude.is_not(None),
        )
    )
    out: list[Point] = []
    for sid, lat, lon, privacy in rows:
        if sid in hidden:
            continue
        plat, plon = public_coordinates(privacy, lat, lon)
        if plat is None or plon is None:  # (never: confidential ones are not read)
            continue
        out.append((sid, float(plat), float(plon), m.Privacy(privacy) is m.Privacy.approximate))
    return tuple(out)


def map_data(
    session: Session,
    params: Any,
    box: Box,
    zoom: int,
    *,
    stale_after_days: int,
) -> MapData:
    """The matches of `params` (a `listings.queries.SearchParams`) inside `box`, as points or,
    when there are more than POINT_LIMIT, as grid clusters for `zoom` (0-20)."""
    matching = _matching(session, params, stale_after_days=stale_after_days)
    if matching is False:
        return MapData([], [], 0)
    wanted: set[uuid.UUID] | None = None
    if matching is not None:
        assert not isinstance(matching, bool)  # noqa: S101 - False returned above, True never
        # (the SQLite text index keeps ids as text)
        wanted = {
            v if isinstance(v, uuid.UUID) else uuid.UUID(str(v)) for v in session.scalars(matching)
        }
    west, south, east, north = box
    inside = [
        p
        for p in public_points(session)
        if south <= p[1] <= north and west <= p[2] <= east and (wanted is None or p[0] in wanted)
    ]
    if len(inside) <= POINT_LIMIT:
        return MapData(inside, [], len(inside))
    cell = 360.0 / (2 ** max(0, min(20, zoom))) / CELLS_PER_TILE
    cells: dict[tuple[int, int], list[float]] = {}
    for _sid, lat, lon, _approx in inside:
        key = (math.floor((lat + 90.0) / cell), math.floor((lon + 180.0) / cell))
        acc = cells.get(key)
        if acc is None:
            cells[key] = [lat, lon, 1.0]
        else:
            acc[0] += lat
            acc[1] += lon
            acc[2] += 1
    clusters = [(a / n, b / n, int(n)) for a, b, n in cells.values()]
    return MapData([], clusters, len(inside))
