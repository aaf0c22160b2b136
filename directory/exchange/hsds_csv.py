"""HSDS 3 tabular form: a zip of one CSV per table plus its `datapackage.json` (Frictionless
Data package). Extension columns start with `x_`; structured extension values are JSON text.

Each table is written to its own temporary file while the services stream past, then the files
are zipped: memory holds only the ids already written (organisations, locations, terms).
"""

from __future__ import annotations

import csv
import json
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy.orm import Session

from directory.exchange import records as r
from directory.exchange.records import EXT, ExportOptions, iter_services

X = EXT


def _x(names: tuple[str, ...]) -> list[str]:
    return [X + n for n in names]


TABLES: dict[str, list[str]] = {
    "organizations": [*r.ORGANIZATION_FIELDS, *_x(r.ORGANIZATION_EXT), X + "translations"],
    "services": [
        *r.SERVICE_FIELDS,
        "last_modified",
        X + "status",
        X + "assured_at",
        *_x(r.SERVICE_EXT),
        X + "translations",
        X + "schedule_exceptions",
        X + "export_scope",
        X + "attribution",
    ],
    "locations": [
        *r.LOCATION_FIELDS,
        *_x(r.LOCATION_EXT),
        X + "capacity_maximum",  # a total without a count of free places (HSDS needs one)
        X + "region",
        X + "place",
        X + "country",
        X + "translations",
        X + "schedule_exceptions",
        X + "redacted",
        X + "attribution",
    ],
    "service_at_locations": list(r.SAL_FIELDS),
    "service_capacity": [
        "id",
        "service_id",
        "unit_id",
        "available",
        "maximum",
        "description",
        "updated",
        X + "location_id",
    ],
    "units": ["id", "name", "scheme", "identifier", "uri"],
    "service_areas": [
        "id",
        "service_id",
        "service_at_location_id",
        "name",
        "description",
        "extent",
        "extent_type",
        "uri",
    ],
    "addresses": list(r.ADDRESS_FIELDS),
    "phones": [*r.PHONE_FIELDS, X + "extension", X + "is_hotline"],
    "schedules": [*r.SCHEDULE_FIELDS, X + "timezone"],
    "languages": list(r.LANGUAGE_FIELDS),
    "required_documents": list(r.REQUIRED_DOCUMENT_FIELDS),
    "accessibility": list(r.ACCESSIBILITY_FIELDS),
    "attributes": list(r.ATTRIBUTE_FIELDS),
    "taxonomy_terms": list(r.TERM_FIELDS),
}
NUMBER_FIELDS = {
    "latitude",
    "longitude",
    "minimum_age",
    "maximum_age",
    "extension",
    "count",
    "interval",
    "available",
    "maximum",
}
INTEGER_FIELDS = {X + "capacity_maximum", X + "capacity_available"}
BOOLEAN_FIELDS = {
    X + n for n in (
        "is_demo", "is_hotline", "open_during_alert", "free_of_charge", "redacted", "has_heating",
        "has_power", "has_water", "has_internet", "has_toilets", "wheelchair_accessible",
        "pets_allowed", "women_children_only", "open_24_7",
    )
}  # fmt: skip


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _field_type(name: str) -> str:
    if name in NUMBER_FIELDS:
        return "number"
    if name in INTEGER_FIELDS:
        return "integer"
    if name in BOOLEAN_FIELDS:
        return "boolean"
    return "string"


def datapackage(options: ExportOptions) -> dict[str, Any]:
    return {
        "name": "aid-directory-hsds",
        "title": "aid-directory export (Open Referral HSDS 3.1 tabular)",
        "profile": "tabular-data-package",
        X + "export_scope": options.scope,
        "description": (
            "Admin export: contains confidential and exact addresses and coordinates."
            if options.include_confidential
            else "Public export: confidential places have no address or coordinates; "
            "approximate ones are rounded to ~1 km without street address."
        ),
        "resources": [
            {
                "name": name,
                "path": f"{name}.csv",  # service_capacity.csv, as HSDS 3.1 names it
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [{"name": f, "type": _field_type(f)} for f in fields],
                    "primaryKey": "id",
                },
            }
            for name, fields in TABLES.items()
        ],
    }


class _Tables:
    def __init__(self) -> None:
        self.files: dict[str, IO[str]] = {}
        self.writers: dict[str, Any] = {}
        for name, fields in TABLES.items():
            fh = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 (closed in close())
            self.files[name] = fh
            self.writers[name] = csv.writer(fh, lineterminator="\r\n")
            self.writers[name].writerow(fields)
        self.seen: dict[str, set[str]] = {
            "organizations": set(),
            "locations": set(),
            "taxonomy_terms": set(),
            "units": set(),
        }

    def write(self, table: str, row: dict[str, Any]) -> None:
        self.writers[table].writerow([cell(row.get(f)) for f in TABLES[table]])

    def once(self, table: str, row: dict[str, Any]) -> bool:
        if row["id"] in self.seen[table]:
            return False
        self.seen[table].add(row["id"])
        self.write(table, row)
        return True

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


def add_service(tables: _Tables, service: dict[str, Any]) -> None:
    org = service.get("organization")
    if org:
        tables.once("organizations", org)
    tables.write("services", service)
    for p in service.get("phones", []):
        tables.write("phones", p)
    for s in service.get("schedules", []):
        tables.write("schedules", s)
    for lang in service.get("languages", []):
        tables.write("languages", lang)
    for d in service.get("required_documents", []):
        tables.write("required_documents", d)
    for a in service.get("attributes", []):
        tables.write("attributes", a)
        if term := a.get("taxonomy_term"):
            tables.once("taxonomy_terms", term)
    for c in service.get("capacities", []):
        tables.write("service_capacity", c)
        tables.once("units", c["unit"])
    for sal in service.get("service_at_locations", []):
        tables.write("service_at_locations", sal)
        for area in sal.get("service_areas", []):
            tables.write("service_areas", area)
        for s in sal.get("schedules", []):
            tables.write("schedules", {**s, "service_at_location_id": sal["id"]})
        loc = sal["location"]
        if tables.once("locations", loc):
            for a in loc.get("addresses", []):
                tables.write("addresses", a)
            for p in loc.get("phones", []):
                tables.write("phones", p)
            for s in loc.get("schedules", []):
                tables.write("schedules", s)
            for acc in loc.get("accessibility", []):
                tables.write("accessibility", acc)


def write_hsds_zip(session: Session, options: ExportOptions, out: IO[bytes]) -> None:
    tables = _Tables()
    try:
        for service in iter_services(session, options):
            add_service(tables, service)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("datapackage.json", json.dumps(datapackage(options), indent=2))
            for name, fh in tables.files.items():
                fh.seek(0)
                with zf.open(f"{name}.csv", "w", force_zip64=True) as dest:
                    while chunk := fh.read(1 << 16):
                        dest.write(chunk.encode())
    finally:
        tables.close()


def export_hsds_csv(session: Session, options: ExportOptions) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as tmp:
        write_hsds_zip(session, options, tmp)
        tmp.seek(0)
        while chunk := tmp.read(1 << 16):
            yield chunk
