"""The simple spreadsheet CSV: one row per service at a location, UTF-8 with a BOM (so Excel
detects the encoding) and a header row. The same columns are the documented import template
(`directory/exchange/templates/listings-template.csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from directory.exchange.hsds31 import capacity_of
from directory.exchange.records import EXT, ExportOptions, iter_services
from directory.exchange.safety import neutralise_cell

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# (column, what it holds) — the template's documentation is generated from this list.
COLUMNS: list[tuple[str, str]] = [
    ("service_id", "Our id (UUID) of the service; leave empty for a new listing"),
    ("external_id", "Your own id of the row (any text, unique per source); matches on re-import"),
    ("organization_name", "Organisation running the service (required)"),
    ("service_name", "Name of the service (required)"),
    ("service_description", "What is offered, to whom"),
    ("categories", "Category codes separated by spaces, e.g. `shelter shelter.air-raid food`"),
    ("status", "active, temporarily closed, full, inactive or defunct (default active)"),
    ("status_until", "When a temporary status ends (ISO date-time, e.g. 2026-01-10T18:00+02:00)"),
    ("phone", "Phone number(s) of the service, international format (+380...), separated by `;`"),
    (
        "place_phone",
        "Phone number(s) of the place; hidden from the public when privacy is confidential",
    ),
    ("hotline", "Hotline number(s) of the place: shown even when the place is confidential"),
    ("email", "Contact e-mail"),
    ("website", "http(s) address"),
    ("languages", "Language codes spoken, separated by spaces (uk ru en pl de ar ...)"),
    ("hours", "Weekly hours, e.g. `MO,TU,WE,TH,FR 09:00-18:00; SA 10:00-14:00` (local time)"),
    ("open_24_7", "yes/no"),
    ("free_of_charge", "yes/no"),
    ("location_name", "Name of the place"),
    ("address", "Street and number (hidden from the public unless privacy is exact)"),
    ("city", "City or town"),
    ("region", "Region (oblast, voivodeship, Land ...)"),
    ("postal_code", "Postal code"),
    ("country", "ISO 3166 two-letter country code (UA, PL, DE ...)"),
    ("latitude", "Decimal degrees, e.g. 50.4501"),
    ("longitude", "Decimal degrees, e.g. 30.5234"),
    ("privacy", "exact, approximate (rounded ~1 km, no street) or confidential (default exact)"),
    (
        "shelter_type",
        "air_raid_shelter, collective_centre, emergency_accommodation, warming_point, "
        "charging_point",
    ),
    ("capacity_maximum", "Places in total (whole number)"),
    ("capacity_available", "Free places now (whole number, not above the maximum)"),
    ("wheelchair_accessible", "yes/no"),
    ("pets_allowed", "yes/no"),
    ("women_children_only", "yes/no"),
    ("has_heating", "yes/no"),
    ("has_power", "yes/no (power or charging)"),
    ("has_water", "yes/no"),
    ("has_internet", "yes/no"),
    (
        "last_verified",
        "Date the listing was last checked (YYYY-MM-DD); an import never moves it back",
    ),
    ("location_id", "Our id of the location (export only; kept when re-importing)"),
    ("organization_id", "Our id of the organisation (export only; kept when re-importing)"),
    ("export_scope", "public, or admin-confidential when confidential places are included"),
    (
        "attribution",
        "Export only: the licence notice of data from another database (© OpenStreetMap "
        "contributors, ODbL); keep it when you share the file",
    ),
]
HEADER = [c for c, _ in COLUMNS]
BOOL_COLUMNS = (
    "open_24_7", "free_of_charge", "wheelchair_accessible", "pets_allowed", "women_children_only",
    "has_heating", "has_power", "has_water", "has_internet",
)  # fmt: skip


def _yes_no(value: Any) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def format_hours(schedules: Iterable[dict[str, Any]]) -> str:
    """Weekly schedules as `MO,TU 09:00-18:00; SA 10:00-14:00`."""

    def order(s: dict[str, Any]) -> tuple[int, str]:
        first = (s.get("byday") or "MO").split(",")[0].strip()[-2:]
        return (DAYS.index(first) if first in DAYS else 7, s.get("opens_at") or "")

    parts = []
    for s in sorted(schedules, key=order):
        if s.get("freq", "WEEKLY") != "WEEKLY" or not s.get("opens_at") or not s.get("closes_at"):
            continue
        days = s.get("byday") or ",".join(DAYS)
        parts.append(f"{days} {s['opens_at'][:5]}-{s['closes_at'][:5]}")
    return "; ".join(parts)


def flat_rows(service: dict[str, Any]) -> Iterator[dict[str, str]]:
    """One flat row per service at a location (one row without location when it has none)."""
    org = service.get("organization") or {}
    categories = " ".join(
        a["taxonomy_term"]["code"]
        for a in service.get("attributes", [])
        if a.get("taxonomy_term", {}).get("code")
    )
    base = {
        "service_id": service["id"],
        "external_id": service.get(EXT + "external_id", ""),
        "organization_name": org.get("name", ""),
        "organization_id": org.get("id", ""),
        "service_name": service["name"],
        "service_description": service.get("description", ""),
        "categories": categories,
        "status": service.get(EXT + "status", service.get("status", "")),
        "status_until": service.get(EXT + "status_until", ""),
        "phone": "; ".join(sorted(p["number"] for p in service.get("phones", []))),
        "email": service.get("email", ""),
        "website": service.get("url", ""),
        "languages": " ".join(
            sorted({lang["code"] for lang in service.get("languages", []) if lang.get("code")})
        ),
        "free_of_charge": _yes_no(service.get(EXT + "free_of_charge")),
        "last_verified": service.get("assured_date", ""),
        "export_scope": service.get(EXT + "export_scope", ""),
        "attribution": service.get(EXT + "attribution", ""),
    }
    sals = service.get("service_at_locations") or []
    if not sals:
        yield {
            **dict.fromkeys(HEADER, ""),
            **base,
            "hours": format_hours(service.get("schedules", [])),
        }
        return
    for sal in sals:
        loc = sal["location"]
        addr = (loc.get("addresses") or [{}])[0]
        region = loc.get(EXT + "region") or {}
        places = capacity_of(service, loc)
        row = dict.fromkeys(HEADER, "")
        row.update(base)
        place_phones = sorted(
            p["number"] for p in loc.get("phones", []) if not p.get(EXT + "is_hotline")
        )
        hotlines = sorted(p["number"] for p in loc.get("phones", []) if p.get(EXT + "is_hotline"))
        row.update(
            {
                "place_phone": "; ".join(place_phones),
                "hotline": "; ".join(hotlines),
                "hours": format_hours(
                    sal.get("schedules") or service.get("schedules") or loc.get("schedules") or []
                ),
                "location_id": loc["id"],
                "location_name": loc.get("name", ""),
                "address": " ".join(
                    x for x in (addr.get("address_1", ""), addr.get("address_2", "")) if x
                ),
                "city": addr.get("city") or (loc.get(EXT + "place") or {}).get("name", ""),
                "region": addr.get("region")
                or addr.get("state_province")
                or region.get("name", ""),
                "postal_code": addr.get("postal_code", ""),
                "country": addr.get("country") or loc.get(EXT + "country", ""),
                "latitude": ""
                if loc.get("latitude") is None
                else f"{loc['latitude']:.6f}".rstrip("0").rstrip("."),
                "longitude": ""
                if loc.get("longitude") is None
                else f"{loc['longitude']:.6f}".rstrip("0").rstrip("."),
                "privacy": loc.get(EXT + "privacy", ""),
                "shelter_type": loc.get(EXT + "shelter_type", ""),
                "capacity_maximum": str(places.get("capacity_maximum", "")),
                "capacity_available": str(places.get("capacity_available", "")),
                "attribution": loc.get(EXT + "attribution", ""),
            }
        )
        for col in BOOL_COLUMNS:
            if col != "free_of_charge":
                row[col] = _yes_no(loc.get(EXT + col))
        yield row


def _csv_line(values: Iterable[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([neutralise_cell(str(v)) for v in values])
    return buf.getvalue()


def export_csv(session: Session, options: ExportOptions) -> Iterator[bytes]:
    yield ("\ufeff" + _csv_line(HEADER)).encode()
    chunk: list[str] = []
    for service in iter_services(session, options):
        for row in flat_rows(service):
            chunk.append(_csv_line(row[c] for c in HEADER))
        if len(chunk) >= 200:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()
