"""Which of the directory's regions a CAP `<area>` covers.

By `<geocode>`: an ISO 3166-2 code (value name `ISO3166-2` in any spelling) or a country code
(`ISO3166-1`: the whole country, a nationwide notice), or the feed's own value names through its
configured `geocodes` mapping. By `<polygon>`/`<circle>`: a region is covered when its own point or
the point of one of its cities lies inside — the directory knows places as points, not outlines,
so an area that covers no region's centre nor any of its cities is reported as "no region".
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.alerts.cap import Area
from directory.listings import models as m

_ISO2 = re.compile(r"^iso[ _-]?3166[ _-]?2$", re.I)
_ISO1 = re.compile(r"^iso[ _-]?3166[ _-]?1?$", re.I)


@dataclass(frozen=True)
class Gazetteer:
    """Regions and countries by code, and the points that stand for each region."""

    by_code: dict[str, tuple[uuid.UUID, str]]  # code → (id, kind)
    region_points: dict[uuid.UUID, list[tuple[float, float]]]  # region → its point and its cities'
    country_of: dict[uuid.UUID, uuid.UUID | None]  # region → country


def load_gazetteer(session: Session) -> Gazetteer:
    rows = session.execute(
        select(
            m.Place.id,
            m.Place.code,
            m.Place.kind,
            m.Place.parent_id,
            m.Place.latitude,
            m.Place.longitude,
        ).where(m.Place.archived_at.is_(None))
    ).all()
    kind = {r.id: r.kind for r in rows}
    by_code = {r.code: (r.id, str(r.kind)) for r in rows if r.code}
    points: dict[uuid.UUID, list[tuple[float, float]]] = {}
    country_of: dict[uuid.UUID, uuid.UUID | None] = {}
    for r in rows:
        if r.kind == m.PlaceKind.region:
            country_of[r.id] = r.parent_id
            if r.latitude is not None and r.longitude is not None:
                points.setdefault(r.id, []).append((float(r.latitude), float(r.longitude)))
    for r in rows:
        if (
            r.kind == m.PlaceKind.city
            and r.parent_id in kind
            and kind[r.parent_id] == m.PlaceKind.region
            and r.latitude is not None
            and r.longitude is not None
        ):
            points.setdefault(r.parent_id, []).append((float(r.latitude), float(r.longitude)))
    return Gazetteer(by_code=by_code, region_points=points, country_of=country_of)


def _inside(point: tuple[float, float], ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting on (lat, lon): fine for the size of a region."""
    y, x = point
    inside = False
    for (y1, x1), (y2, x2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y):
            cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross:
                inside = not inside
    return inside


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Covered:
    regions: frozenset[uuid.UUID]
    countries: frozenset[uuid.UUID]  # whole countries: a notice for everyone


def covered(
    areas: tuple[Area, ...], gaz: Gazetteer, geocodes: dict[str, dict[str, str]]
) -> Covered:
    regions: set[uuid.UUID] = set()
    countries: set[uuid.UUID] = set()
    for area in areas:
        for name, value in area.geocodes:
            code = (geocodes.get(name) or {}).get(value)
            if code is None and (_ISO2.match(name) or _ISO1.match(name)):
                code = value.strip().upper()
            hit = gaz.by_code.get(code or "")
            if hit is None:
                continue
            place_id, kind = hit
            if kind == m.PlaceKind.region:
                regions.add(place_id)
            elif kind == m.PlaceKind.country:
                countries.add(place_id)
        for region_id, pts in gaz.region_points.items():
            if any(_inside(p, ring) for ring in area.polygons for p in pts) or any(
                _km(p, (lat, lon)) <= radius for lat, lon, radius in area.circles for p in pts
            ):
                regions.add(region_id)
    return Covered(regions=frozenset(regions), countries=frozenset(countries))
