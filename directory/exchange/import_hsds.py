"""HSDS-shaped services (JSON, or the tabular zip read into the same shape) → the importer's
records."""

from __future__ import annotations

import re
import uuid
from typing import Any

from directory.exchange.hsds31 import capacity_of
from directory.exchange.import_cleaning import (
    assured,
    check_location,
    child_rec,
    clean_payload,
    expire_status,
    list_of,
    mapped,
    place_ref,
    translations_of,
    unique_children,
    uuid_or,
    where_of,
)
from directory.exchange.import_records import Bundle, Context, Rec, fields_of
from directory.exchange.import_report import Problem, Report
from directory.exchange.readers import Item
from directory.exchange.records import EXT
from directory.moderation.fields import FIELDS, F

#: What a public export leaves out or rounds for approximate and confidential places.
REDACTED_FIELDS = {
    "latitude", "longitude", "name", "alternate_name", "url", "description", "transportation",
    "external_identifier", "external_identifier_type",
}  # fmt: skip
REDACTED_WARNING = (
    "places from a public export (approximate or confidential) lack their exact whereabouts: "
    "coordinates, street addresses and non-hotline phones are left as they are"
)

SERVICE_MAP = {n: n for n in fields_of("service")} | {
    n: EXT + n
    for n in (
        "status_reason",
        "status_reason_code",
        "status_until",
        "open_during_alert",
        "free_of_charge",
        "audience",
        "source_locale",
        "alternative_service_id",
    )
}
#: Bookkeeping the write path sets itself, kept from the file (`import_keep`), cleaned so.
KEPT = {"status_since": F("datetime"), "assurer_email": FIELDS["service"]["email"]}
LOCATION_KEPT = {"capacity_updated": F("datetime")}
ORG_MAP = {n: n for n in fields_of("organization")} | {"source_locale": EXT + "source_locale"}
LOCATION_MAP = {n: n for n in fields_of("location")} | {
    n: EXT + n for n in (
        "timezone", "privacy", "shelter_type", "capacity_maximum", "capacity_available",
        "has_heating", "has_power", "has_water", "has_internet", "has_toilets",
        "wheelchair_accessible", "pets_allowed", "women_children_only", "open_24_7",
        "source_locale",
    )
}  # fmt: skip
PHONE_MAP = {n: n for n in fields_of("phone")} | {"is_hotline": EXT + "is_hotline"}
SCHEDULE_MAP = {n: n for n in fields_of("schedule")} | {"timezone": EXT + "timezone"}
ADDRESS_MAP = {n: n for n in fields_of("address")}
LANGUAGE_MAP = {n: n for n in fields_of("language")}
DOCUMENT_MAP = {n: n for n in fields_of("required_document")}
ACCESSIBILITY_MAP = {n: n for n in fields_of("accessibility")}
EXCEPTION_MAP = {n: n for n in fields_of("schedule_exception")}


def _status(data: dict[str, Any]) -> Any:
    return data.get(EXT + "status") or data.get("status")


def item_to_bundle(ctx: Context, report: Report, item: Item) -> Bundle | None:
    """Validate one HSDS-shaped service (from JSON or the tabular zip) into records."""
    data = item.data
    if "__invalid__" in data:
        report.error(
            Problem(item.file, item.line, item.path, "", "must be a JSON object (an HSDS service)")
        )
        return None
    if "__rows__" in data:
        from directory.exchange.import_sheet import rows_to_bundle

        return rows_to_bundle(ctx, report, item)
    errors_before = report.error_count
    where = (item.file, item.line, item.path)
    textual = item.textual
    sid_raw = data.get("id")
    sid = uuid_or(sid_raw, lambda: ctx.derived_id("service", str(sid_raw or data.get("name"))))
    raw = mapped(data, SERVICE_MAP)
    if not raw.get("url"):
        raw["url"] = _first_url(data.get("additional_urls"))
    raw["status"] = _status(data)
    raw["assured_date"] = assured(data)
    payload = clean_payload(
        ctx, report, "service", raw, names=SERVICE_MAP, where=where, textual=textual, partial=False
    )
    if payload is not None:
        expire_status(ctx, report, payload, where)
        kept = clean_payload(
            ctx,
            report,
            "service",
            {
                "status_since": data.get(EXT + "status_since"),
                "assurer_email": data.get("assurer_email"),
            },
            names=KEPT,
            where=where,
            textual=textual,
            partial=False,
            specs=KEPT,
        )
        for name, value in (kept or {}).items():
            if value is not None:
                payload[f"__{name}__"] = value
    org_rec = None
    org = data.get("organization")
    org_id_raw = (org or {}).get("id") or data.get("organization_id")
    if isinstance(org, dict):
        owhere = where_of(org, item, item.path + ".organization")
        org_id = uuid_or(
            org.get("id"),
            lambda: ctx.derived_id("organization", str(org.get("id") or org.get("name"))),
        )
        opayload = clean_payload(
            ctx,
            report,
            "organization",
            {
                **mapped(org, ORG_MAP),
                "website": org.get("website") or _first_url(org.get("additional_websites")),
            },
            names=ORG_MAP,
            where=owhere,
            textual=textual,
            partial=False,
        )
        if opayload is not None:
            org_rec = Rec(
                "organization",
                org_id,
                opayload,
                *owhere,
                translations=translations_of(ctx, report, "organization", org, owhere),
                external=(ctx.source, str(org.get("id"))) if ctx.source and org.get("id") else None,
            )
    elif org_id_raw is None:
        report.error(
            Problem(
                item.file,
                item.line,
                item.path,
                "organization",
                "is required (the organisation running the service)",
            )
        )
    org_id = (
        org_rec.id
        if org_rec
        else uuid_or(org_id_raw, lambda: ctx.derived_id("organization", str(org_id_raw)))
    )

    locations: list[Rec] = []
    children: list[Rec] = []
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    link_ids: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}
    places: set[uuid.UUID] = set()  # the service's places (`_service_parent`)
    for i, sal in enumerate(data.get("service_at_locations") or []):
        spath = f"{item.path}.service_at_locations[{i}]"
        loc = sal.get("location") if isinstance(sal, dict) else None
        if not isinstance(loc, dict):
            report.error(
                Problem(
                    *where_of(sal if isinstance(sal, dict) else {}, item, spath),
                    "location",
                    "names no location in the file",
                )
            )
            continue
        lwhere = where_of(loc, item, spath + ".location")
        loc_ref = str(loc.get("id") or loc.get("name"))
        lid = uuid_or(loc.get("id"), lambda: ctx.derived_id("location", loc_ref))  # noqa: B023
        links.append((lid, sid))
        places.add(lid)
        if isinstance(sal.get("id"), str):
            link_ids[(lid, sid)] = uuid_or(sal["id"], uuid.uuid4)
        for j, s in enumerate(sal.get("schedules") or []):
            rec = child_rec(
                ctx,
                report,
                "schedule",
                s,
                SCHEDULE_MAP,
                where_of(s, item, f"{spath}.schedules[{j}]"),
                textual,
                {"service_id": sid, "location_id": lid},
            )
            if rec:
                children.append(rec)
        if lid in ctx.seen["location"]:
            continue  # the same place under several services: its record is checked once
        ctx.seen["location"].add(lid)
        raw_loc = mapped(loc, LOCATION_MAP)
        stated = capacity_of(data, loc)  # HSDS 3.1 `capacities`, or 3.0 `x_capacity_*`
        for name in ("capacity_maximum", "capacity_available"):
            if name in stated:
                raw_loc[name] = stated[name]
        if textual:
            for key in ("latitude", "longitude"):
                raw_loc[key] = loc.get(key)
        redacted = bool(loc.get(EXT + "redacted"))
        names = [n for n in LOCATION_MAP if not (redacted and n in REDACTED_FIELDS)]
        lpayload = clean_payload(
            ctx,
            report,
            "location",
            raw_loc,
            names=names,
            where=lwhere,
            textual=textual,
            partial=False,
        )
        if lpayload is None:
            continue
        if redacted:
            report.warn(Problem(*lwhere, "x_redacted", REDACTED_WARNING))
        check_location(report, lpayload, lwhere)
        region = loc.get(EXT + "region")
        place = loc.get(EXT + "place")
        if region or not redacted:
            lpayload["region_id"] = place_ref(ctx, report, region, "region", lwhere)
        if place or not redacted:  # a public export hides a confidential place's city
            lpayload["place_id"] = place_ref(ctx, report, place, "city", lwhere)
        lpayload["organization_id"] = str(org_id)
        kept_loc = clean_payload(
            ctx,
            report,
            "location",
            {"capacity_updated": stated.get("capacity_updated")},
            names=LOCATION_KEPT,
            where=lwhere,
            textual=textual,
            partial=False,
            specs=LOCATION_KEPT,
        )
        if kept_loc and kept_loc.get("capacity_updated"):
            lpayload["__capacity_updated__"] = kept_loc["capacity_updated"]
        locations.append(
            Rec(
                "location",
                lid,
                lpayload,
                *lwhere,
                translations=translations_of(ctx, report, "location", loc, lwhere),
                external=(ctx.source, str(loc.get("id"))) if ctx.source and loc.get("id") else None,
            )
        )
        for j, a in enumerate(loc.get("addresses") or []):
            if isinstance(a, dict) and not a.get("address_1") and loc.get(EXT + "redacted"):
                report.warn(
                    Problem(
                        *lwhere,
                        "addresses",
                        "this place comes from a public export without its street address: "
                        "its address is left out",
                    )
                )
                continue
            rec = child_rec(
                ctx,
                report,
                "address",
                a,
                ADDRESS_MAP,
                where_of(a, item, f"{lwhere[2]}.addresses[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, p in enumerate([] if redacted else loc.get("phones") or []):
            rec = child_rec(
                ctx,
                report,
                "phone",
                p,
                PHONE_MAP,
                where_of(p, item, f"{lwhere[2]}.phones[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, s in enumerate(loc.get("schedules") or []):
            rec = child_rec(
                ctx,
                report,
                "schedule",
                s,
                SCHEDULE_MAP,
                where_of(s, item, f"{lwhere[2]}.schedules[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, a in enumerate(loc.get("accessibility") or []):
            rec = child_rec(
                ctx,
                report,
                "accessibility",
                a,
                ACCESSIBILITY_MAP,
                where_of(a, item, f"{lwhere[2]}.accessibility[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, e in enumerate(list_of(loc.get(EXT + "schedule_exceptions"))):
            rec = child_rec(
                ctx,
                report,
                "schedule_exception",
                e,
                EXCEPTION_MAP,
                (*lwhere[:2], f"{lwhere[2]}.{EXT}schedule_exceptions[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
    for j, p in enumerate(data.get("phones") or []):
        rec = child_rec(
            ctx,
            report,
            "phone",
            p,
            PHONE_MAP,
            where_of(p, item, f"{item.path}.phones[{j}]"),
            textual,
            _service_parent(sid, p, places),
        )
        if rec:
            children.append(rec)
    for j, s in enumerate(data.get("schedules") or []):
        rec = child_rec(
            ctx,
            report,
            "schedule",
            s,
            SCHEDULE_MAP,
            where_of(s, item, f"{item.path}.schedules[{j}]"),
            textual,
            _service_parent(sid, s, places),
        )
        if rec:
            children.append(rec)
    for key, entity, mapping in (
        ("languages", "language", LANGUAGE_MAP),
        ("required_documents", "required_document", DOCUMENT_MAP),
    ):
        for j, obj in enumerate(data.get(key) or []):
            lwhere = where_of(obj if isinstance(obj, dict) else {}, item, f"{item.path}.{key}[{j}]")
            if (
                entity == "language"
                and isinstance(obj, dict)
                and not _LANGUAGE_CODE.match(str(obj.get("code") or ""))
            ):
                # other directories name languages without a code: not an error, left out
                report.warn(
                    Problem(
                        *lwhere,
                        "code",
                        f"language {str(obj.get('name') or obj.get('code'))[:40]!r} has no "
                        "language code (uk, en, pt-BR ...): skipped",
                    )
                )
                continue
            rec = child_rec(ctx, report, entity, obj, mapping, lwhere, textual, {"service_id": sid})
            if rec:
                children.append(rec)
    for j, e in enumerate(list_of(data.get(EXT + "schedule_exceptions"))):
        rec = child_rec(
            ctx,
            report,
            "schedule_exception",
            e,
            EXCEPTION_MAP,
            (item.file, item.line, f"{item.path}.{EXT}schedule_exceptions[{j}]"),
            textual,
            {"service_id": sid},
        )
        if rec:
            children.append(rec)
    category_ids: dict[str, uuid.UUID] = {}
    categories = _categories(ctx, report, item, data.get("attributes") or [], category_ids)
    if payload is None or report.error_count > errors_before:
        return None
    children = unique_children(ctx, children)
    payload["organization_id"] = str(org_id)
    svc = Rec(
        "service",
        sid,
        payload,
        *where,
        translations=translations_of(ctx, report, "service", data, where),
        external=(ctx.source, str(sid_raw)) if ctx.source and sid_raw else None,
    )
    return Bundle(
        svc,
        org_rec,
        locations,
        children,
        categories,
        new_links=links,
        link_ids=link_ids,
        category_ids=category_ids,
    )


def _first_url(urls: Any) -> Any:
    """HSDS 3.1 `additional_urls` / `additional_websites`: the first, for a record with none."""
    for entry in urls if isinstance(urls, list) else []:
        if isinstance(entry, dict) and entry.get("url"):
            return entry["url"]
    return None


def _service_parent(sid: uuid.UUID, obj: Any, places: set[uuid.UUID]) -> dict[str, uuid.UUID]:
    """A service's phone or hours may also name one of its places (`location_id`)."""
    parent = {"service_id": sid}
    lid = obj.get("location_id") if isinstance(obj, dict) else None
    if isinstance(lid, str):
        found = uuid_or(lid, lambda: uuid.UUID(int=0))
        if found in places:
            parent["location_id"] = found
    return parent


_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _categories(
    ctx: Context, report: Report, item: Item, attributes: list[Any], ids: dict[str, uuid.UUID]
) -> list[str]:
    """The category codes of the attributes (and, in `ids`, each code's attribute id)."""
    codes = []
    for i, a in enumerate(attributes):
        if not isinstance(a, dict):
            continue
        term = a.get("taxonomy_term") or {}
        code = term.get("code") if isinstance(term, dict) else None
        if code is None and a.get("taxonomy_term_id"):
            try:
                code = ctx.term_ids.get(uuid.UUID(str(a["taxonomy_term_id"])))
            except ValueError:
                code = None
        if code in ctx.terms:
            codes.append(str(code))
            if isinstance(a.get("id"), str):
                ids.setdefault(str(code), uuid_or(a["id"], uuid.uuid4))
        else:
            where = where_of(a, item, f"{item.path}.attributes[{i}]")
            report.warn(
                Problem(
                    *where,
                    "taxonomy_term",
                    f"category {str(code)[:60]!r} is not in the directory's taxonomy: skipped",
                )
            )
    return sorted(set(codes))
