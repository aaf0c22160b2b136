"""HXL (Humanitarian Exchange Language): a CSV whose second row holds HXL hashtags, one row per
service at a location, for humanitarian coordination tools (HDX, libhxl, HXL Proxy)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from directory.exchange.csv_simple import flat_rows
from directory.exchange.records import EXT, ExportOptions, iter_services
from directory.exchange.safety import neutralise_cell

# (header, hashtag, flat-row column or a function of the service and row)
COLUMNS: list[tuple[str, str, str]] = [
    ("Organisation", "#org+name", "organization_name"),
    ("Organisation ID", "#org+id", "organization_id"),
    ("Service", "#service+name", "service_name"),
    ("Service ID", "#service+id", "service_id"),
    ("Category codes", "#sector+code", "categories"),
    ("Categories", "#sector+name", "category_names"),
    ("Location", "#loc+name", "location_name"),
    ("Location ID", "#loc+id", "location_id"),
    ("Address", "#loc+address", "address"),
    ("Country", "#country+code", "country"),
    ("Region", "#adm1+name", "region"),
    ("Region code", "#adm1+code", "region_code"),
    ("City", "#adm2+name", "city"),
    ("Latitude", "#geo+lat", "latitude"),
    ("Longitude", "#geo+lon", "longitude"),
    ("Location privacy", "#loc+privacy", "privacy"),
    ("Shelter type", "#loc+type", "shelter_type"),
    ("Phone", "#contact+phone", "phone"),
    ("Email", "#contact+email", "email"),
    ("Website", "#contact+url", "website"),
    ("Status", "#status", "status"),
    ("Status until", "#date+status_until", "status_until"),
    ("Capacity", "#capacity+total", "capacity_maximum"),
    ("Free places", "#capacity+available", "capacity_available"),
    ("Last verified", "#date+verified", "last_verified"),
    ("Export scope", "#meta+scope", "export_scope"),
]


def _line(values: Iterable[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([neutralise_cell(str(v)) for v in values])
    return buf.getvalue()


def _rows(service: dict[str, Any]) -> Iterator[dict[str, str]]:
    names = "; ".join(a["taxonomy_term"]["name"] for a in service.get("attributes", []))
    locations = {
        sal["location"]["id"]: sal["location"] for sal in service.get("service_at_locations") or []
    }
    for row in flat_rows(service):
        loc = locations.get(row["location_id"], {})
        region = loc.get(EXT + "region") or {}
        row["category_names"] = names
        row["region_code"] = region.get("code") or ""
        yield row


def export_hxl(session: Session, options: ExportOptions) -> Iterator[bytes]:
    yield (_line(h for h, _, _ in COLUMNS) + _line(t for _, t, _ in COLUMNS)).encode()
    chunk: list[str] = []
    for service in iter_services(session, options):
        for row in _rows(service):
            chunk.append(_line(row.get(col, "") for _, _, col in COLUMNS))
        if len(chunk) >= 200:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()
