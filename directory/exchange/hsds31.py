"""The HSDS 3.1 parts of an exported service, and how they are read back.

- A place's capacity is an HSDS 3.1 `service_capacity` of each service there (`capacities`):
  `available` free places of `maximum`, `updated` when they were last counted, in a `unit`:
  `bed` at places to stay (collective centres, emergency accommodation), `place` elsewhere
  (shelters, warming and charging points). The profile adds `x_location_id`: the place it
  counts. A place with a total but no count of free places keeps `x_capacity_maximum`
  (HSDS requires `available`).
- Each service-at-location names the place's region as its `service_areas` entry (with the
  ISO 3166-2 code as `uri` when there is one).
- Each attribute has the term's name as its `label`; `additional_urls` and
  `additional_websites` are empty (the directory keeps one website per record).

Ids of these derived records are UUID 5 of what they describe, so every export gives the same.
HSDS 3.0 files (capacity in the place's `x_capacity_*` fields) are read as well
(`capacity_of`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from typing import Any

EXT = "x_"  # as `records.EXT` (records builds on this module)

NAMESPACE = uuid.UUID("0c1b6d2e-93a4-5f0e-8a57-2d6b1f4c9e31")
#: Places to stay count beds; other places count the people they take in.
BED_TYPES = frozenset({"collective_centre", "emergency_accommodation"})
UNITS: dict[str, dict[str, Any]] = {
    code: {
        "id": str(uuid.uuid5(NAMESPACE, "unit|" + code)),
        "name": name,
        "scheme": "aid-directory",
        "identifier": code,
    }
    for code, name in (("bed", "beds"), ("place", "places"))
}
_ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return getattr(value, "value", value)


def derived_id(*parts: Any) -> str:
    """`str(uuid.uuid5(NAMESPACE, "|".join(parts)))`, without the UUID object (an export makes
    one or two per service)."""
    name = "|".join(map(str, parts)).encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_NAMESPACE_BYTES = NAMESPACE.bytes


def capacity(loc: Any, service_id: Any) -> dict[str, Any] | None:
    """The `service_capacity` of a place (a location row) for one of its services, or None
    when the place has no count of free places."""
    available = loc["capacity_available"]
    if available is None:
        return None
    unit = "bed" if _plain(loc["shelter_type"]) in BED_TYPES else "place"
    updated = loc["capacity_updated"] or loc["updated_at"]
    out: dict[str, Any] = {
        "id": derived_id("capacity", loc["id"], service_id),
        "service_id": str(service_id),
        "unit": dict(UNITS[unit]),
        "unit_id": UNITS[unit]["id"],
        "available": available,
        "updated": _plain(updated),
        EXT + "location_id": str(loc["id"]),
    }
    if loc["capacity_maximum"] is not None:
        out["maximum"] = loc["capacity_maximum"]
    return out


def service_areas(sal_id: Any, service_id: Any, region: dict[str, Any] | None) -> list[Any]:
    """The region of a service-at-location's place, as its HSDS service area."""
    if not region:
        return []
    area: dict[str, Any] = {
        "id": derived_id("area", sal_id, region["id"]),
        "service_id": str(service_id),
        "service_at_location_id": str(sal_id),
        "name": region["name"],
    }
    code = region.get("code") or ""
    if _ISO_3166_2.match(code):
        area["uri"] = "urn:iso:std:iso:3166:-2:" + code
    return [area]


def capacity_of(service: dict[str, Any], location: dict[str, Any]) -> dict[str, Any]:
    """What a file says of a place's capacity: `capacity_maximum`, `capacity_available` and
    `capacity_updated` (those it states), from the service's HSDS 3.1 `capacities` (the entry
    whose `x_location_id` is the place, or the only one of a service with one place) or from
    the place's HSDS 3.0 `x_capacity_*` fields."""
    out: dict[str, Any] = {}
    for name in ("capacity_maximum", "capacity_available", "capacity_updated"):
        if location.get(EXT + name) is not None:
            out[name] = location[EXT + name]
    entries = [c for c in service.get("capacities") or [] if isinstance(c, dict)]
    places = service.get("service_at_locations") or []
    lid = location.get("id")
    mine = [c for c in entries if c.get(EXT + "location_id") == lid and lid]
    if (
        not mine
        and len(places) == 1
        and len(entries) == 1
        and not entries[0].get(EXT + "location_id")
    ):
        mine = entries
    if mine:
        entry = mine[0]
        out["capacity_available"] = entry.get("available")
        if "maximum" in entry:
            out["capacity_maximum"] = entry.get("maximum")
        if entry.get("updated"):
            out["capacity_updated"] = entry["updated"]
    return out
