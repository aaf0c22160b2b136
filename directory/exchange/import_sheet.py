"""The simple spreadsheet (one row per service and place, `import --format csv`) → the
importer's records."""

from __future__ import annotations

import uuid
from typing import Any

from directory.exchange.import_cleaning import (
    assured,
    check_location,
    child_rec,
    clean_payload,
    expire_status,
    place_ref,
    uuid_or,
)
from directory.exchange.import_hsds import (
    ADDRESS_MAP,
    LANGUAGE_MAP,
    PHONE_MAP,
    REDACTED_FIELDS,
    REDACTED_WARNING,
    SCHEDULE_MAP,
)
from directory.exchange.import_records import Bundle, Context, Rec
from directory.exchange.import_report import Problem, Report
from directory.exchange.readers import Item
from directory.moderation.fields import FieldError


def _split(value: str | None, sep: str | None = None) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in (value.split(sep) if sep else value.split()) if v.strip()]


def parse_hours(text: str) -> list[dict[str, str]]:
    """`MO,TU 09:00-18:00; SA 10:00-14:00` → weekly schedules (raises FieldError)."""
    out = []
    for part in _split(text, ";"):
        try:
            days, span = part.rsplit(" ", 1)
            opens, closes = span.split("-")
        except ValueError:
            raise FieldError(
                f"cannot read {part[:40]!r}: write e.g. MO,TU,WE 09:00-18:00; SA 10:00-14:00"
            ) from None
        days = days.replace(" ", "").upper()
        out.append(
            {
                "freq": "WEEKLY",
                "byday": days,
                "opens_at": opens.strip(),
                "closes_at": closes.strip(),
            }
        )
    return out


# Field names of the write path → the spreadsheet's column names, for the report.
_COLUMN_OF = {
    "name": "service_name", "description": "service_description", "url": "website",
    "number": "phone", "address_1": "address", "byday": "hours", "opens_at": "hours",
    "closes_at": "hours", "freq": "hours", "code": "languages", "assured_date": "last_verified",
}  # fmt: skip


def rows_to_bundle(ctx: Context, report: Report, item: Item) -> Bundle | None:
    rows: list[tuple[int, dict[str, str]]] = item.data["__rows__"]
    header = set(item.data["__header__"])
    errors_before = report.error_count
    first_line, first = rows[0]
    name = item.file

    def cells(row: dict[str, str]) -> dict[str, str]:
        return {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}

    first = cells(first)
    ext_id = first.get("external_id") or ""
    org_name = first.get("organization_name") or ""
    org_key = org_name.casefold()
    org_id = uuid_or(first.get("organization_id"), lambda: ctx.derived_id("organization", org_key))
    where = (name, first_line, f"line {first_line}")
    opayload = clean_payload(
        ctx,
        report,
        "organization",
        {"name": org_name},
        names=["name"],
        where=(name, first_line, "org:"),
        textual=True,
        partial=True,
        present={"name"},
    )
    for problem in report.errors[errors_before:]:
        problem.path = where[2]
        problem.field = "organization_name"
    org_rec = Rec(
        "organization",
        org_id,
        opayload or {},
        *where,
        external=(ctx.source or "csv", "org:" + org_key) if org_key else None,
    )
    if opayload is not None:
        org_rec.payload["__match_name__"] = org_name
    svc_key = (
        first.get("service_id")
        or ext_id
        or "|".join(
            (
                org_key,
                (first.get("service_name") or "").casefold(),
                (first.get("location_name") or "").casefold(),
                (first.get("address") or "").casefold(),
                (first.get("city") or "").casefold(),
            )
        )
    )
    sid = uuid_or(first.get("service_id"), lambda: ctx.derived_id("service", svc_key))
    raw = {
        "name": first.get("service_name"),
        "description": first.get("service_description"),
        "status": first.get("status") or ("active" if "status" in header else None),
        "status_until": first.get("status_until"),
        "email": first.get("email"),
        "url": first.get("website"),
        "free_of_charge": first.get("free_of_charge"),
        "assured_date": assured({"assured_date": first.get("last_verified") or None}),
    }
    present = {
        n
        for n, col in (
            ("name", "service_name"),
            ("description", "service_description"),
            ("status", "status"),
            ("status_until", "status_until"),
            ("email", "email"),
            ("url", "website"),
            ("free_of_charge", "free_of_charge"),
            ("assured_date", "last_verified"),
        )
        if col in header
    }
    payload = clean_payload(
        ctx,
        report,
        "service",
        raw,
        names=list(raw),
        where=where,
        textual=True,
        partial=True,
        present=present,
    )
    if payload is not None:
        expire_status(ctx, report, payload, where)
    if payload is not None and "description" in payload and payload["description"] is None:
        payload["description"] = ""
    categories: list[str] | None = None
    if "categories" in header:
        categories = []
        for code in _split(first.get("categories")):
            if code in ctx.terms:
                categories.append(code)
            else:
                report.error(
                    Problem(
                        name,
                        first_line,
                        f"line {first_line}",
                        "categories",
                        f"unknown category code {code[:60]!r} (codes look like: shelter, "
                        "shelter.air-raid, food, heat-power.warming)",
                    )
                )
        categories = sorted(set(categories))
    children: list[Rec] = []
    for number in _split(first.get("phone"), ";"):
        rec = child_rec(
            ctx,
            report,
            "phone",
            {"number": number},
            PHONE_MAP,
            (name, first_line, f"line {first_line}"),
            True,
            {"service_id": sid},
            names=["number"],
        )
        if rec:
            rec.path = f"line {first_line}"
            children.append(rec)
    for code in _split(first.get("languages")):
        rec = child_rec(
            ctx,
            report,
            "language",
            {"code": code},
            LANGUAGE_MAP,
            (name, first_line, f"line {first_line}"),
            True,
            {"service_id": sid},
            names=["code"],
        )
        if rec:
            children.append(rec)
    if first.get("hours"):
        try:
            for s in parse_hours(first["hours"]):
                rec = child_rec(
                    ctx,
                    report,
                    "schedule",
                    s,
                    SCHEDULE_MAP,
                    (name, first_line, f"line {first_line}"),
                    True,
                    {"service_id": sid},
                    names=list(s),
                )
                if rec:
                    children.append(rec)
        except FieldError as exc:
            report.error(Problem(name, first_line, f"line {first_line}", "hours", str(exc)))
    locations: list[Rec] = []
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    loc_cols = {"location_name", "address", "city", "latitude", "longitude", "location_id"}
    for lineno, row in rows:
        row = cells(row)
        lwhere = (name, lineno, f"line {lineno}")
        for col, value in row.items():
            if isinstance(value, str) and value.startswith("=") and col != "export_scope":
                report.error(
                    Problem(
                        name,
                        lineno,
                        f"line {lineno}",
                        col,
                        "looks like a spreadsheet formula; type the value itself",
                    )
                )
        if not any(row.get(c) for c in loc_cols):
            continue
        loc_key = "|".join(
            (row.get(c) or "").casefold()
            for c in ("location_name", "address", "city", "latitude", "longitude")
        )
        lid = uuid_or(
            row.get("location_id"),
            lambda: ctx.derived_id("location", org_key + "|" + loc_key),  # noqa: B023
        )
        links.append((lid, sid))
        if lid in ctx.seen["location"]:
            continue
        ctx.seen["location"].add(lid)
        lraw: dict[str, Any] = {
            "name": row.get("location_name"),
            "latitude": row.get("latitude"),
            "longitude": row.get("longitude"),
            "privacy": row.get("privacy") or None,
            "shelter_type": row.get("shelter_type"),
            "capacity_maximum": row.get("capacity_maximum"),
            "capacity_available": row.get("capacity_available"),
        }
        for col in (
            "wheelchair_accessible",
            "pets_allowed",
            "women_children_only",
            "has_heating",
            "has_power",
            "has_water",
            "has_internet",
            "open_24_7",
        ):
            lraw[col] = row.get(col)
        lpresent = {k for k in lraw if (k if k != "name" else "location_name") in header}
        # A public export's approximate and confidential places lack their whereabouts:
        # those cells say nothing about the place and are not compared or written.
        redacted = row.get("export_scope") == "public" and row.get("privacy") in (
            "approximate",
            "confidential",
        )
        if redacted:
            lpresent -= REDACTED_FIELDS
            report.warn(Problem(*lwhere, "export_scope", REDACTED_WARNING))
        lpayload = clean_payload(
            ctx,
            report,
            "location",
            lraw,
            names=list(lraw),
            where=lwhere,
            textual=True,
            partial=True,
            present=lpresent,
        )
        if lpayload is None:
            continue
        check_location(report, lpayload, lwhere)
        if "region" in header and (row.get("region") or not redacted):
            lpayload["region_id"] = place_ref(ctx, report, row.get("region"), "region", lwhere)
        if "city" in header and (row.get("city") or not redacted):
            lpayload["place_id"] = place_ref(ctx, report, row.get("city"), "city", lwhere)
        lpayload["organization_id"] = str(org_id)
        locations.append(
            Rec(
                "location",
                lid,
                lpayload,
                *lwhere,
                external=(ctx.source or "csv", "loc:" + org_key + "|" + loc_key),
            )
        )
        phone_columns = () if redacted else (("place_phone", False), ("hotline", True))
        for col, hotline in phone_columns:
            for number in _split(row.get(col), ";"):
                rec = child_rec(
                    ctx,
                    report,
                    "phone",
                    {"number": number, "x_is_hotline": hotline},
                    PHONE_MAP,
                    lwhere,
                    True,
                    {"location_id": lid},
                    names=["number", "is_hotline"],
                )
                if rec:
                    children.append(rec)
        if (row.get("address") or row.get("city")) and not redacted:
            address = {
                "address_1": row.get("address") or "",
                "city": row.get("city"),
                "region": row.get("region") or None,
                "postal_code": row.get("postal_code") or "",
                "country": row.get("country"),
            }
            rec = child_rec(
                ctx,
                report,
                "address",
                address,
                ADDRESS_MAP,
                lwhere,
                True,
                {"location_id": lid},
                names=["address_1", "city", "postal_code", "country"],
            )
            if rec:
                children.append(rec)
    for problem in report.errors[errors_before:]:
        problem.field = _COLUMN_OF.get(problem.field, problem.field)
    if payload is None or opayload is None or report.error_count > errors_before:
        return None
    payload["organization_id"] = str(org_id)
    svc = Rec(
        "service", sid, payload, *where, external=(ctx.source or "csv", ext_id) if ext_id else None
    )
    return Bundle(svc, org_rec, locations, children, categories, new_links=links, partial=True)
