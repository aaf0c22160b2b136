"""Features of an OpenStreetMap extract that a mapping rule matches: nodes at their position,
ways and multipolygon relations at their centroid.

`.osm.pbf` (and `.osm` XML) are read by libosmium (`osmium.FileProcessor`): node locations are
cached for the ways, closed ways and multipolygons are assembled as areas by osmium's area
handler, and only objects that carry a key of the mapping reach Python. Overpass JSON is read
whole (`out center;`, `out geom;`, or `out body; >; out skel;` — all three give a position).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directory.exchange import safety
from directory.exchange.osm.mapping import Mapping, Rule
from directory.exchange.readers import ImportRefused

MAX_OVERPASS_BYTES = 500 * 1024 * 1024  # read whole: larger areas come as .osm.pbf


@dataclass
class Feature:
    osm_type: str  # node | way | relation
    osm_id: int
    tags: dict[str, str]
    lat: float
    lon: float
    rule: Rule

    @property
    def key(self) -> str:
        """The OSM id as OpenStreetMap writes it in URLs: `node/123`."""
        return f"{self.osm_type}/{self.osm_id}"


def read_features(path: Path, mapping: Mapping) -> Iterator[Feature]:
    name = path.name.lower()
    size = path.stat().st_size
    if size == 0:
        raise ImportRefused("the file is empty", file=path.name)
    if size > safety.MAX_FILE_BYTES:
        raise ImportRefused("the file is too large", file=path.name)
    if name.endswith((".json", ".geojson")) or _starts_with_brace(path):
        yield from read_overpass(path, mapping)
    else:
        yield from read_osmium(path, mapping)


def _starts_with_brace(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(64).lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{")


def _centroid(rings: Iterable[list[tuple[float, float]]]) -> tuple[float, float] | None:
    """Area-weighted centroid of (outer) rings of (lon, lat); the mean of the points when the
    rings have no area (a line, a degenerate polygon)."""
    total = cx = cy = 0.0
    points: list[tuple[float, float]] = []
    for ring in rings:
        points.extend(ring)
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            total += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
    if not points:
        return None
    if abs(total) < 1e-14:
        return (
            sum(p[1] for p in points) / len(points),
            sum(p[0] for p in points) / len(points),
        )
    return cy / (3 * total), cx / (3 * total)  # (lat, lon)


def read_osmium(path: Path, mapping: Mapping) -> Iterator[Feature]:
    import osmium

    keys = mapping.keys
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_areas(osmium.filter.KeyFilter(*keys))
            .with_filter(osmium.filter.KeyFilter(*keys))
        )
        for obj in processor:
            if isinstance(obj, osmium.osm.Changeset):
                continue
            tags = {t.k: t.v for t in obj.tags}
            rule = mapping.rule_for(tags)
            if rule is None:
                continue
            where: tuple[float, float] | None
            if isinstance(obj, osmium.osm.Node):
                if not obj.location.valid():
                    continue
                yield Feature("node", obj.id, tags, obj.location.lat, obj.location.lon, rule)
                continue
            if isinstance(obj, osmium.osm.Way):
                if obj.is_closed():
                    continue  # comes again as an area (osmium's area handler)
                ring = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                where = _centroid([ring])
                kind, oid = "way", obj.id
            elif isinstance(obj, osmium.osm.Area):
                rings = [[(n.lon, n.lat) for n in ring] for ring in obj.outer_rings()]
                where = _centroid(rings)
                kind, oid = ("way" if obj.from_way() else "relation"), obj.orig_id()
            else:
                continue  # relations other than multipolygons have no place
            if where is not None:
                yield Feature(kind, oid, tags, where[0], where[1], rule)
    except RuntimeError as exc:  # libosmium's errors on a broken or foreign file
        raise ImportRefused(f"not an OpenStreetMap file osmium can read ({exc})") from None


def read_overpass(path: Path, mapping: Mapping) -> Iterator[Feature]:
    if path.stat().st_size > MAX_OVERPASS_BYTES:
        raise ImportRefused("an Overpass JSON file this large: use an .osm.pbf extract instead")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ImportRefused(f"not valid Overpass JSON: {exc}", file=path.name) from None
    elements = doc.get("elements") if isinstance(doc, dict) else None
    if not isinstance(elements, list):
        raise ImportRefused("not Overpass JSON: no list of 'elements'", file=path.name)
    nodes: dict[int, tuple[float, float]] = {}
    for el in elements:
        if isinstance(el, dict) and el.get("type") == "node" and _num(el, "lat", "lon"):
            nodes[int(el["id"])] = (float(el["lon"]), float(el["lat"]))
    for el in elements:
        if not isinstance(el, dict) or not isinstance(el.get("tags"), dict):
            continue
        tags = {str(k): str(v) for k, v in el["tags"].items()}
        rule = mapping.rule_for(tags)
        kind = el.get("type")
        if rule is None or kind not in ("node", "way", "relation"):
            continue
        try:
            oid = int(el["id"])
        except (KeyError, TypeError, ValueError):
            continue
        where = _overpass_position(el, nodes)
        if where is not None:
            yield Feature(str(kind), oid, tags, where[0], where[1], rule)


def _num(obj: Any, *keys: str) -> bool:
    return all(isinstance(obj.get(k), int | float) for k in keys)


def _overpass_position(
    el: dict[str, Any], nodes: dict[int, tuple[float, float]]
) -> tuple[float, float] | None:
    if _num(el, "lat", "lon"):
        return float(el["lat"]), float(el["lon"])
    center = el.get("center")
    if isinstance(center, dict) and _num(center, "lat", "lon"):
        return float(center["lat"]), float(center["lon"])
    geometry = el.get("geometry")
    if isinstance(geometry, list):
        ring = [
            (float(p["lon"]), float(p["lat"]))
            for p in geometry
            if isinstance(p, dict) and _num(p, "lat", "lon")
        ]
        return _centroid([ring])
    refs = el.get("nodes")
    if isinstance(refs, list):
        ring = [nodes[r] for r in refs if isinstance(r, int) and r in nodes]
        return _centroid([ring])
    return None
