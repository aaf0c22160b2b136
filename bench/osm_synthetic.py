"""A SYNTHETIC OpenStreetMap regional extract (.osm.pbf) for the figures of
`aid-directory import --format osm` (docs/exchange.md#openstreetmap).

Real extracts cannot be downloaded on the build machines, so this writes one with libosmium's
writer: a Kyiv-region-sized box filled at the density of a real city extract with what is NOT
aid (buildings as closed ways with addresses, named streets, shops and cafés as nodes) and a
few thousand aid features (bomb shelters as nodes and as building areas, social-facility
shelters, refugee sites, assembly points, drinking water, charging and warming points), with
the tags mappers use (name:*, opening_hours of every kind, wheelchair, capacity, phone).
`--twins FILE` (a GeoJSON export of a directory) adds a feature 20-60 m from every 3rd listed
place with the same name: the possible duplicates the import must flag.

    python -m bench.osm_synthetic --out /tmp/region.osm.pbf --mb 50 [--twins listed.geojson]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import osmium

BOX = (50.20, 30.20, 50.65, 30.85)  # lat0, lon0, lat1, lon1 (~50 x 46 km)
STREETS = ["Хрещатик", "Шевченка", "Лесі Українки", "Франка", "Грушевського", "Сагайдачного"]
HOURS = [
    "24/7",
    "Mo-Fr 08:00-20:00; Sa 10:00-16:00",
    "Mo-Su 07:00-22:00",
    "Mo-Fr 09:00-18:00; PH off",
    "May-Sep Mo-Su 08:00-20:00",
    "за потреби / on request",
    "Fr-Sa 22:00-04:00",
]


def _aid_tags(rng: random.Random, i: int) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.70:
        tags = {"military": "bunker", "bunker_type": "bomb_shelter"}
        if rng.random() < 0.5:
            tags = {"amenity": "shelter", "shelter_type": "bomb_shelter"}
        if rng.random() < 0.6:
            tags |= {"name": f"Укриття №{i}", "name:en": f"Shelter No. {i}"}
        if rng.random() < 0.4:
            tags["capacity"] = str(rng.randint(20, 800))
    elif roll < 0.76:
        tags = {"amenity": "social_facility", "social_facility": "shelter", "name": f"Притулок {i}"}
    elif roll < 0.78:
        tags = {"amenity": "refugee_site", "name": f"Модульне містечко {i}"}
    elif roll < 0.86:
        tags = {"emergency": "assembly_point", "name": f"Пункт збору {i}"}
    elif roll < 0.96:
        tags = {"amenity": "drinking_water"}
    elif roll < 0.98:
        tags = {"amenity": "device_charging_station", "name": f"Пункт незламності {i}"}
    else:
        tags = {"amenity": "social_facility", "social_facility": "warming_centre"}
        tags["name"] = f"Пункт обігріву {i}"
    if rng.random() < 0.5:
        tags["opening_hours"] = rng.choice(HOURS)
    if rng.random() < 0.3:
        tags["wheelchair"] = rng.choice(["yes", "no", "limited"])
    if rng.random() < 0.2:
        tags["phone"] = f"+380 44 {rng.randint(200, 599)} {rng.randint(1000, 9999)}"
    return tags


def write(out: Path, mb: float, seed: int, twins: Path | None) -> dict[str, int]:
    rng = random.Random(seed)
    out.unlink(missing_ok=True)
    # ~5.8 bytes of PBF per node of this mix (measured): buildings of 5 nodes + streets
    target_nodes = int(mb * 1_000_000 / 5.8)
    counts = {"nodes": 0, "ways": 0, "aid_features": 0, "twins": 0}
    lat0, lon0, lat1, lon1 = BOX
    nid, wid = 1, 1
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    with osmium.SimpleWriter(str(out)) as w:

        def node(lat: float, lon: float, tags: dict[str, str] | None = None) -> int:
            nonlocal nid
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags or {}))
            nid += 1
            counts["nodes"] += 1
            return nid - 1

        aid = 0
        while counts["nodes"] < target_nodes:
            lat, lon = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
            roll = rng.random()
            if roll < 0.62:  # a building: a closed way of 4 corners
                d = rng.uniform(0.00008, 0.0003)
                refs = [node(lat, lon), node(lat, lon + d), node(lat + d, lon + d)]
                refs += [node(lat + d, lon), refs[0]]
                tags = {"building": rng.choice(["yes", "house", "apartments", "school"])}
                if rng.random() < 0.35:
                    tags |= {
                        "addr:street": rng.choice(STREETS),
                        "addr:housenumber": str(rng.randint(1, 200)),
                    }
                if rng.random() < 0.0012:  # a shelter mapped as the building itself
                    tags |= _aid_tags(rng, aid)
                    aid += 1
                ways.append((wid, refs, tags))
                wid += 1
            elif roll < 0.78:  # a street of 8-20 nodes
                refs = []
                for _ in range(rng.randint(8, 20)):
                    refs.append(node(lat, lon))
                    lat += rng.uniform(-0.0008, 0.0008)
                    lon += rng.uniform(-0.0008, 0.0008)
                tags = {"highway": rng.choice(["residential", "tertiary", "service", "footway"])}
                if rng.random() < 0.5:
                    tags["name"] = f"вулиця {rng.choice(STREETS)}"
                ways.append((wid, refs, tags))
                wid += 1
            elif roll < 0.995:  # a point of interest that is not aid
                key = rng.choice(["amenity", "shop", "tourism", "leisure"])
                value = rng.choice(["cafe", "bench", "supermarket", "kiosk", "parking", "bank"])
                node(lat, lon, {key: value, "name": f"POI {nid}"})
            else:
                node(lat, lon, _aid_tags(rng, aid))
                aid += 1
        if twins is not None:
            doc = json.loads(twins.read_text(encoding="utf-8"))
            for i, f in enumerate(doc.get("features", [])):
                geometry, props = f.get("geometry") or {}, f.get("properties") or {}
                name = ((props.get("services") or [{}])[0]).get("name") or props.get("name")
                if i % 3 or geometry.get("type") != "Point" or not name:
                    continue
                lon, lat = geometry["coordinates"][:2]
                off = rng.uniform(20, 60) / 111_000
                node(
                    lat + off,
                    lon,
                    {"amenity": "shelter", "shelter_type": "bomb_shelter", "name": name},
                )
                counts["twins"] += 1
                aid += 1
        for way_id, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
            counts["ways"] += 1
    counts["aid_features"] = aid
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--twins", type=Path)
    args = parser.parse_args()
    counts = write(args.out, args.mb, args.seed, args.twins)
    size = args.out.stat().st_size
    print(json.dumps({**counts, "bytes": size, "synthetic": True}))


if __name__ == "__main__":
    main()
