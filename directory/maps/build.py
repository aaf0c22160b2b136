"""Builds the shipped country outlines from the npm package `world-atlas` (pinned in
package.json; Natural Earth's 1:50m Admin 0 countries, public domain, converted to TopoJSON by
the package, ISC licence): `python -m directory.maps.build` (`./dev setup` runs it through
`directory.web.assets`). The results are COMMITTED, so no build of the package needs Node:

- `directory/maps/data/countries.json`: every country as rings of [lon, lat] rounded to 0.01°
  and simplified (Douglas-Peucker, 0.02°), for the server-drawn SVG map;
- `directory/web/static/map/outlines.json`: the same at 0.1°, as GeoJSON, the interactive map's
  base layer when no tile archive is configured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"
DATA = Path(__file__).resolve().parent / "data" / "countries.json"
STATIC = ROOT / "directory" / "web" / "static" / "map" / "outlines.json"

Ring = list[tuple[float, float]]


def decode_arcs(topo: dict[str, Any]) -> list[Ring]:
    """TopoJSON arcs (quantized, delta-encoded) as lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topo["arcs"]:
        x = y = 0
        ring: Ring = []
        for dx, dy in arc:
            x += dx
            y += dy
            ring.append((x * sx + tx, y * sy + ty))
        arcs.append(ring)
    return arcs


def _ring(arcs: list[Ring], indexes: list[int]) -> Ring:
    out: Ring = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(arc if not out else arc[1:])
    return out


def simplify(ring: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker (iterative), keeping the first and last point."""
    if len(ring) < 4:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = ring[a], ring[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5 or 1e-12
        best, index = 0.0, -1
        for i in range(a + 1, b):
            px, py = ring[i]
            if dx == dy == 0:  # a closed ring's ends: the distance from that point
                d = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            else:
                d = abs(dy * (px - ax) - dx * (py - ay)) / norm
            if d > best:
                best, index = d, i
        if index >= 0 and best > tolerance:
            keep[index] = True
            stack += [(a, index), (index, b)]
    return [p for p, k in zip(ring, keep, strict=True) if k]


def countries(topo: dict[str, Any], tolerance: float, digits: int) -> list[dict[str, Any]]:
    arcs = decode_arcs(topo)
    out = []
    for geo in topo["objects"]["countries"]["geometries"]:
        polys = geo.get("arcs") or []
        if geo.get("type") == "Polygon":
            polys = [polys]
        rings = []
        for poly in polys:
            for k, indexes in enumerate(poly[:1]):  # outer rings only (holes are lakes: small)
                del k
                ring = simplify(_ring(arcs, indexes), tolerance)
                ring = [(round(x, digits), round(y, digits)) for x, y in ring]
                if len(ring) >= 4:
                    rings.append(ring)
        if rings:
            out.append({"id": geo.get("id"), "name": geo["properties"]["name"], "rings": rings})
    return out


def build(source: Path = SOURCE) -> None:
    if not source.exists():
        sys.exit(f"missing {source}: run `npm ci` first (./dev setup does)")
    topo = json.loads(source.read_text(encoding="utf-8"))
    fine = countries(topo, tolerance=0.02, digits=2)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(
        json.dumps(
            {
                "source": "Natural Earth 1:50m Admin 0 countries (public domain), "
                "via the npm package world-atlas",
                "countries": fine,
            },
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )
    coarse = countries(topo, tolerance=0.1, digits=1)
    features = [
        {
            "type": "Feature",
            "properties": {"name": c["name"]},
            "geometry": {"type": "MultiPolygon", "coordinates": [[r] for r in c["rings"]]},
        }
        for c in coarse
    ]
    STATIC.parent.mkdir(parents=True, exist_ok=True)
    STATIC.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")),
        encoding="utf-8",
    )


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
