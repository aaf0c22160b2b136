"""Which features the directory already has: by OSM id (records this import made, or a listing
a moderator linked to the feature), else a listing within `distance_m` whose place or service
name is similar (`name_similarity`, 0-1, rapidfuzz token-set ratio on transliterated names, so
"Укриття №5" and "Ukryttia 5" compare). A near match is never proposed as a new listing."""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, utils
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from directory.exchange.osm import ID_TYPE
from directory.exchange.osm.convert import distance_m
from directory.exchange.osm.mapping import Mapping
from directory.exchange.osm.reader import Feature
from directory.listings import models as m

CELL = 0.01  # degrees: the grid of the neighbour search (~1.1 km north-south)
CHUNK = 500
_NUMBER = re.compile(r"\d+")


@dataclass
class Near:
    location_id: uuid.UUID
    name: str
    metres: float
    similarity: float
    row: Any  # the location's row (its version and facts)


def _norm(text: str) -> str:
    return str(utils.default_process(anyascii(text or "")))


def similarity(a: str, b: str) -> float:
    """0-1; names whose numbers differ ("Укриття №620" and "Укриття №574", "School 5" and
    "School 7") are different places however alike the rest is."""
    a, b = _norm(a), _norm(b)
    if not a or not b:
        return 0.0
    numbers_a, numbers_b = set(_NUMBER.findall(a)), set(_NUMBER.findall(b))
    if numbers_a and numbers_b and numbers_a != numbers_b:
        return 0.0
    return float(fuzz.token_set_ratio(a, b)) / 100


def linked_locations(session: Session, keys: list[str]) -> dict[str, Any]:
    """Locations that carry these OSM ids (`external_identifier`), by OSM id."""
    loc = m.Location.__table__
    out: dict[str, Any] = {}
    for i in range(0, len(keys), CHUNK):
        rows = session.execute(
            select(loc).where(
                loc.c.external_identifier_type == ID_TYPE,
                loc.c.external_identifier.in_(keys[i : i + CHUNK]),
                loc.c.archived_at.is_(None),
            )
        )
        for row in rows:
            out[row.external_identifier] = row._mapping
    return out


class Neighbours:
    """Listed places around the features (one query for their bounding box), on a grid."""

    def __init__(self, session: Session, features: list[Feature], mapping: Mapping) -> None:
        self.mapping = mapping
        self.grid: dict[tuple[int, int], list[tuple[Any, list[str]]]] = defaultdict(list)
        if not features:
            return
        margin = mapping.distance_m / 100_000 + CELL
        lat0 = min(f.lat for f in features) - margin
        lat1 = max(f.lat for f in features) + margin
        lon0 = min(f.lon for f in features) - margin * 2
        lon1 = max(f.lon for f in features) + margin * 2
        loc, sal, svc = (
            m.Location.__table__,
            m.ServiceAtLocation.__table__,
            m.Service.__table__,
        )
        rows = session.execute(
            select(loc, svc.c.name.label("service_name"))
            .select_from(
                loc.outerjoin(sal, sal.c.location_id == loc.c.id).outerjoin(
                    svc, and_(svc.c.id == sal.c.service_id, svc.c.archived_at.is_(None))
                )
            )
            .where(
                loc.c.archived_at.is_(None),
                loc.c.latitude.between(lat0, lat1),
                loc.c.longitude.between(lon0, lon1),
            )
        )
        places: dict[uuid.UUID, tuple[Any, list[str]]] = {}
        for row in rows:
            entry = places.setdefault(row.id, (row._mapping, [row.name or ""]))
            if row.service_name:
                entry[1].append(row.service_name)
        for row, names in places.values():
            self.grid[self._cell(float(row["latitude"]), float(row["longitude"]))].append(
                (row, names)
            )

    @staticmethod
    def _cell(lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / CELL), math.floor(lon / CELL)

    def find(self, feature: Feature, own: list[str]) -> Near | None:
        """The closest listed place within the distance whose name is similar enough."""
        best: Near | None = None
        ci, cj = self._cell(feature.lat, feature.lon)
        reach = max(1, math.ceil(self.mapping.distance_m / 1000 / (CELL * 111)))
        for di in range(-reach, reach + 1):
            for dj in range(-reach * 2, reach * 2 + 1):
                for row, names in self.grid.get((ci + di, cj + dj), ()):
                    metres = distance_m(
                        feature.lat, feature.lon, float(row["latitude"]), float(row["longitude"])
                    )
                    if metres > self.mapping.distance_m:
                        continue
                    score = max(similarity(a, n) for a in own for n in names)
                    if score < self.mapping.name_similarity:
                        continue
                    if best is None or metres < best.metres:
                        label = next((n for n in names[1:] if n), names[0])
                        best = Near(row["id"], label, metres, score, row)
        return best


@dataclass
class Twin:
    key: str
    name: str
    metres: float
    similarity: float


class Twins:
    """Named features of the same file already proposed: a second one nearby with a similar
    name and the same category (a shelter mapped as a node and as its building) is reported
    as a possible duplicate instead of a second new listing."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.grid: dict[tuple[int, int], list[tuple[Feature, list[str]]]] = defaultdict(list)

    def add(self, feature: Feature, names: list[str]) -> None:
        self.grid[Neighbours._cell(feature.lat, feature.lon)].append((feature, names))

    def find(self, feature: Feature, own: list[str]) -> Twin | None:
        ci, cj = Neighbours._cell(feature.lat, feature.lon)
        reach = max(1, math.ceil(self.mapping.distance_m / 1000 / (CELL * 111)))
        best: Twin | None = None
        for di in range(-reach, reach + 1):
            for dj in range(-reach * 2, reach * 2 + 1):
                for other, names in self.grid.get((ci + di, cj + dj), ()):
                    if other.rule.category != feature.rule.category:
                        continue
                    metres = distance_m(feature.lat, feature.lon, other.lat, other.lon)
                    if metres > self.mapping.distance_m:
                        continue
                    score = max(similarity(a, n) for a in own for n in names)
                    if score >= self.mapping.name_similarity and (
                        best is None or metres < best.metres
                    ):
                        best = Twin(other.key, names[0], metres, score)
        return best
