"""GeoJSON (RFC 7946): a FeatureCollection of locations with coordinates and the services offered
there, for QGIS, uMap and similar tools. Positions are [longitude, latitude] (WGS 84, no `crs`
member). Public exports leave out confidential places and round approximate ones."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from directory.exchange.osm import ATTRIBUTION as OSM_ATTRIBUTION
from directory.exchange.osm import ID_TYPE as OSM_ID_TYPE
from directory.exchange.records import EXT, ExportOptions, PlaceNames, jsonable
from directory.listings import models as m
from directory.listings.models import Privacy
from directory.listings.privacy import public_location_view

AMENITIES = (
    "has_heating", "has_power", "has_water", "has_internet", "has_toilets",
    "wheelchair_accessible", "pets_allowed", "women_children_only", "open_24_7",
)  # fmt: skip


def _location_batches(session: Session, options: ExportOptions) -> Iterator[list[Any]]:
    t: Table = m.Location.__table__  # type: ignore[assignment]
    last: uuid.UUID | None = None
    while True:
        stmt = (
            select(t)
            .where(t.c.archived_at.is_(None), t.c.latitude.is_not(None), t.c.longitude.is_not(None))
            .order_by(t.c.id)
            .limit(options.batch_size)
        )
        if not options.include_confidential:
            stmt = stmt.where(t.c.privacy != Privacy.confidential.value)
        if not options.include_demo:
            stmt = stmt.where(t.c.is_demo.is_(False))
        if last is not None:
            stmt = stmt.where(t.c.id > last)
        rows = [r._mapping for r in session.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def _services_at(
    session: Session, loc_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    sal = m.ServiceAtLocation.__table__
    svc = m.Service.__table__
    org = m.Organization.__table__
    attr = m.Attribute.__table__
    term = m.TaxonomyTerm.__table__
    rows = session.execute(
        select(
            sal.c.location_id,
            svc.c.id,
            svc.c.name,
            svc.c.status,
            svc.c.status_until,
            org.c.name.label("org"),
        )
        .join(svc, svc.c.id == sal.c.service_id)
        .join(org, org.c.id == svc.c.organization_id)
        .where(
            sal.c.location_id.in_(loc_ids), sal.c.archived_at.is_(None), svc.c.archived_at.is_(None)
        )
        .order_by(sal.c.location_id, svc.c.id)
    ).all()
    sids = list({r.id for r in rows})
    cats: dict[uuid.UUID, list[str]] = defaultdict(list)
    if sids:
        for link_id, code in session.execute(
            select(attr.c.link_id, term.c.code)
            .join(term, term.c.id == attr.c.taxonomy_term_id)
            .where(
                attr.c.link_entity == "service",
                attr.c.link_id.in_(sids),
                attr.c.archived_at.is_(None),
            )
            .order_by(term.c.code)
        ):
            cats[link_id].append(code)
    out: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        item = {
            "id": str(r.id),
            "name": r.name,
            "organization": r.org,
            "status": jsonable(r.status),
            "categories": cats.get(r.id, []),
        }
        if r.status_until is not None:
            item["status_until"] = jsonable(r.status_until)
        out[r.location_id].append(item)
    return out


def feature(
    loc: Any, services: list[dict[str, Any]], *, places: PlaceNames, options: ExportOptions
) -> dict[str, Any] | None:
    view = public_location_view(loc)
    lat, lon = loc["latitude"], loc["longitude"]
    if not options.include_confidential:
        lat, lon = view.latitude, view.longitude
    if lat is None or lon is None:
        return None
    props: dict[str, Any] = {
        "id": str(loc["id"]),
        "name": loc["name"] if (options.include_confidential or view.show_address) else None,
        "privacy": jsonable(loc["privacy"]),
        "approximate": view.approximate and not options.include_confidential,
        "shelter_type": jsonable(loc["shelter_type"]),
        "capacity_maximum": loc["capacity_maximum"],
        "capacity_available": loc["capacity_available"],
        "city": (places.describe(loc["place_id"]) or {}).get("name"),
        "region": (
            places.describe(loc["region_id"] or places.region_of(loc["place_id"])) or {}
        ).get("name"),
        "services": services,
    }
    if loc["external_identifier_type"] == OSM_ID_TYPE:  # ODbL: the attribution travels along
        props["attribution"] = OSM_ATTRIBUTION
    for key in AMENITIES:
        props[key] = loc[key]
    return {
        "type": "Feature",
        "id": str(loc["id"]),
        # RFC 7946: [longitude, latitude]; 6 decimals (~0.1 m) is more than enough.
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]},
        "properties": props,
    }


def export_geojson(session: Session, options: ExportOptions) -> Iterator[bytes]:
    places = PlaceNames(session)
    head = {"type": "FeatureCollection", EXT + "export_scope": options.scope}
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[\n').encode()
    first = True
    for locations in _location_batches(session, options):
        services = _services_at(session, [r["id"] for r in locations])
        for loc in locations:
            feat = feature(loc, services.get(loc["id"], []), places=places, options=options)
            if feat is None:
                continue
            yield (
                ("" if first else ",\n")
                + json.dumps(feat, ensure_ascii=False, separators=(",", ":"))
            ).encode()
            first = False
    yield b"\n]}\n"
