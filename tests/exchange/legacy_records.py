"""The exporter as it was before the speed-up of 2026-12-03 (issue #16), kept as the reference
the equivalence test (`test_export_equivalence`) compares today's output with, byte for byte.

Do not change it to make that test pass: the exports must not change. One deliberate change
since: a record's translated fields are in name order (they came in row order, which PostgreSQL's
parallel scans of a large table made differ between two exports of the same data).
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Table,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from directory.exchange import hsds31
from directory.exchange.export_sql import _col, _cols, _ids, _in, _rows
from directory.exchange.osm import ATTRIBUTION as OSM_ATTRIBUTION
from directory.exchange.osm import ID_TYPE as OSM_ID_TYPE
from directory.listings import models as m
from directory.listings.privacy import public_location_view

EXT = "x_"
BATCH_SIZE = 2000

# HSDS field names per table that map 1:1 onto our columns (JSON and tabular forms).
SERVICE_FIELDS = (
    "id", "organization_id", "name", "alternate_name", "description", "url", "email", "status",
    "interpretation_services", "application_process", "fees_description",
    "eligibility_description", "minimum_age", "maximum_age", "assured_date", "assurer_email",
    "alert",
)  # fmt: skip
SERVICE_EXT = (
    "source_locale", "status_reason", "status_reason_code", "status_since", "status_until",
    "alternative_service_id",
    "open_during_alert", "free_of_charge", "audience", "external_source", "external_id", "is_demo",
)  # fmt: skip
ORGANIZATION_FIELDS = (
    "id",
    "name",
    "alternate_name",
    "description",
    "email",
    "website",
    "legal_status",
)
ORGANIZATION_EXT = ("source_locale", "external_source", "external_id", "is_demo")
LOCATION_FIELDS = (
    "id", "location_type", "url", "organization_id", "name", "alternate_name", "description",
    "transportation", "latitude", "longitude", "external_identifier", "external_identifier_type",
)  # fmt: skip
# (capacity travels as HSDS 3.1 `service_capacity` of each service there: `hsds31`)
LOCATION_EXT = (
    "source_locale", "timezone", "privacy", "shelter_type", "has_heating", "has_power", "has_water",
    "has_internet", "has_toilets", "wheelchair_accessible", "pets_allowed",
    "women_children_only", "open_24_7", "external_source", "external_id", "is_demo",
)  # fmt: skip
ADDRESS_FIELDS = (
    "id", "location_id", "attention", "address_1", "address_2", "city", "region",
    "state_province", "postal_code", "country", "address_type",
)  # fmt: skip
PHONE_FIELDS = (
    "id", "location_id", "service_id", "organization_id", "service_at_location_id", "number",
    "extension", "type", "description",
)  # fmt: skip
PHONE_EXT = ("is_hotline",)
SCHEDULE_FIELDS = (
    "id", "service_id", "location_id", "service_at_location_id", "valid_from", "valid_to",
    "dtstart", "until", "count", "wkst", "freq", "interval", "byday", "byweekno",
    "bymonthday", "byyearday", "description", "opens_at", "closes_at", "schedule_link",
    "attending_type", "notes",
)  # fmt: skip
SCHEDULE_EXT = ("timezone",)  # HSDS wants a numeric UTC offset; ours is an IANA zone name
LANGUAGE_FIELDS = ("id", "service_id", "location_id", "phone_id", "name", "code", "note")
ATTRIBUTE_FIELDS = ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value")
TERM_FIELDS = (
    "id", "code", "name", "description", "parent_id", "taxonomy", "language", "taxonomy_id",
    "term_uri",
)  # fmt: skip
ACCESSIBILITY_FIELDS = ("id", "location_id", "description", "details", "url")
REQUIRED_DOCUMENT_FIELDS = ("id", "service_id", "document", "uri")
SAL_FIELDS = ("id", "service_id", "location_id", "description")
EXCEPTION_EXT_FIELDS = ("id", "date", "closed", "opens_at", "closes_at", "reason", "source_locale")


def _datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    return value


# One converter per Python type (a dict lookup is cheaper than a chain of isinstance calls,
# and this runs for every value of every exported record).
_CONVERTERS: dict[type, Any] = {
    str: _plain,
    int: _plain,
    bool: _plain,
    float: _plain,
    uuid.UUID: str,
    dt.datetime: _datetime,
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    Decimal: float,
}


def jsonable(value: Any) -> Any:
    """Our column values as JSON values (UUIDs and dates as strings, decimals as numbers)."""
    convert = _CONVERTERS.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, m.StrEnum):
        return value.value
    return value


def _pick(row: Any, names: Sequence[str], *, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    get = _CONVERTERS.get
    for name in names:
        value = row[name]
        if value is None or (prefix and value == ""):
            continue
        convert = get(type(value))
        out[prefix + name] = convert(value) if convert is not None else jsonable(value)
    return out


@dataclass
class ExportOptions:
    include_confidential: bool = False
    batch_size: int = BATCH_SIZE
    include_demo: bool = True

    @property
    def scope(self) -> str:
        return "admin-confidential" if self.include_confidential else "public"


def count_services(session: Session, options: ExportOptions | None = None) -> int:
    options = options or ExportOptions()
    t = m.Service.__table__
    stmt = select(func.count()).select_from(t).where(t.c.archived_at.is_(None))
    if not options.include_demo:
        stmt = stmt.where(t.c.is_demo.is_(False))
    return int(session.execute(stmt).scalar_one())


def iter_service_rows(session: Session, options: ExportOptions) -> Iterator[list[Any]]:
    """Batches of live service rows in id order (keyset pagination: flat memory, stable)."""
    t: Table = m.Service.__table__  # type: ignore[assignment]
    last: str | None = None
    while True:
        stmt = (
            select(*_cols(t))
            .where(t.c.archived_at.is_(None))
            .order_by(t.c.id)
            .limit(options.batch_size)
        )
        if not options.include_demo:
            stmt = stmt.where(t.c.is_demo.is_(False))
        if last is not None:
            stmt = stmt.where(t.c.id > uuid.UUID(last))
        rows = list(session.execute(stmt).mappings().all())
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


class PlaceNames:
    """The gazetteer, loaded once (it is small): id → (kind, code, name, parent id)."""

    def __init__(self, session: Session) -> None:
        t = m.Place.__table__
        self.places = {
            r.id: r
            for r in session.execute(
                select(_col(t.c.id), t.c.kind, t.c.code, t.c.name, _col(t.c.parent_id))
            )
        }

    def describe(self, place_id: Any) -> dict[str, Any] | None:
        row = self.places.get(str(place_id)) if place_id else None
        if row is None:
            return None
        return {"id": row.id, "kind": jsonable(row.kind), "code": row.code, "name": row.name}

    def region_of(self, place_id: Any) -> str | None:
        place_id = str(place_id) if place_id else None
        seen = 0
        while place_id is not None and seen < 8:
            row = self.places.get(place_id)
            if row is None:
                return None
            if str(jsonable(row.kind)) == "region":
                return place_id
            place_id = row.parent_id
            seen += 1
        return None

    def country_code(self, place_id: Any) -> str | None:
        place_id = str(place_id) if place_id else None
        seen = 0
        while place_id is not None and seen < 8:
            row = self.places.get(place_id)
            if row is None:
                return None
            if str(jsonable(row.kind)) == "country":
                return row.code
            place_id = row.parent_id
            seen += 1
        return None


def _translations(session: Session, ids: Iterable[Any]) -> dict[str, dict[str, dict[str, str]]]:
    t = m.Translation.__table__
    out: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    ids = _ids(ids)
    if not ids:
        return out
    stmt = select(_col(t.c.entity_id), t.c.field, t.c.locale, t.c.value).where(
        _in(session, t.c.entity_id, ids)
    )
    for row in session.execute(stmt).all():
        out[row.entity_id].setdefault(row.field, {})[row.locale] = row.value
    for entity, fields in out.items():
        for name in fields:
            fields[name] = dict(sorted(fields[name].items()))
        out[entity] = dict(sorted(fields.items()))
    return out


def _phone(row: Any) -> dict[str, Any]:
    out = _pick(row, [f for f in PHONE_FIELDS if f != "extension"])
    ext = row["extension"]
    if ext:
        if ext.isdigit() and not ext.startswith("0"):
            out["extension"] = int(ext)  # HSDS types extension as a number
        else:
            out[EXT + "extension"] = ext
    out[EXT + "is_hotline"] = bool(row["is_hotline"])
    return out


def _schedule(row: Any) -> dict[str, Any]:
    out = _pick(row, SCHEDULE_FIELDS)
    out.update(_pick(row, SCHEDULE_EXT, prefix=EXT))
    return out


def iter_services(
    session: Session, options: ExportOptions | None = None
) -> Iterator[dict[str, Any]]:
    """HSDS 3 service objects, one by one, each with everything the HSDS service schema nests."""
    options = options or ExportOptions()
    if session.get_bind().dialect.name == "postgresql":
        # The batch look-ups run with one `uuid[]` parameter each; once psycopg prepares them
        # (after 5 runs), PostgreSQL's generic plan for `= ANY($1)` is twice as slow as planning
        # each batch with its ids. For this transaction only.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    places = PlaceNames(session)
    for services in iter_service_rows(session, options):
        yield from build_batch(session, services, places=places, options=options)


def build_batch(
    session: Session, services: list[Any], *, places: PlaceNames, options: ExportOptions
) -> Iterator[dict[str, Any]]:
    sids = [s["id"] for s in services]
    orgs = {
        r["id"]: r
        for r in _rows(
            session,
            m.Organization.__table__,  # type: ignore[arg-type]
            "id",
            {s["organization_id"] for s in services},
        )
    }
    sal_rows = _rows(session, m.ServiceAtLocation.__table__, "service_id", sids)  # type: ignore[arg-type]
    sals: dict[str, list[Any]] = defaultdict(list)
    for r in sal_rows:
        sals[r["service_id"]].append(r)
    loc_ids = {r["location_id"] for r in sal_rows}
    locations = {r["id"]: r for r in _rows(session, m.Location.__table__, "id", loc_ids)}  # type: ignore[arg-type]
    addresses: dict[str, list[Any]] = defaultdict(list)
    for r in _rows(session, m.Address.__table__, "location_id", locations):  # type: ignore[arg-type]
        addresses[r["location_id"]].append(r)
    access: dict[str, list[Any]] = defaultdict(list)
    for r in _rows(session, m.Accessibility.__table__, "location_id", locations):  # type: ignore[arg-type]
        access[r["location_id"]].append(r)

    phone_t = m.Phone.__table__
    s_phones: dict[str, list[Any]] = defaultdict(list)
    l_phones: dict[str, list[Any]] = defaultdict(list)
    sid_params, loc_params = _ids(sids), _ids(locations) or [uuid.UUID(int=0)]
    stmt = select(*_cols(phone_t)).where(
        phone_t.c.archived_at.is_(None),
        or_(
            _in(session, phone_t.c.service_id, sid_params),
            _in(session, phone_t.c.location_id, loc_params),
        ),
    )
    sid_set = set(sids)
    for r in session.execute(stmt).mappings().all():
        if r["service_id"] is not None:
            if r["service_id"] in sid_set:
                s_phones[r["service_id"]].append(r)
        elif r["location_id"] is not None:
            l_phones[r["location_id"]].append(r)

    sched_t = m.Schedule.__table__
    s_sched: dict[str, list[Any]] = defaultdict(list)
    l_sched: dict[str, list[Any]] = defaultdict(list)
    sal_sched: dict[str, list[Any]] = defaultdict(list)
    sal_ids = [r["id"] for r in sal_rows]
    stmt = select(*_cols(sched_t)).where(
        sched_t.c.archived_at.is_(None),
        or_(
            _in(session, sched_t.c.service_id, sid_params),
            _in(session, sched_t.c.location_id, loc_params),
            _in(session, sched_t.c.service_at_location_id, _ids(sal_ids) or [uuid.UUID(int=0)]),
        ),
    )
    for r in session.execute(stmt).mappings().all():
        if r["service_at_location_id"] is not None:
            sal_sched[r["service_at_location_id"]].append(r)
        elif r["service_id"] is not None:
            s_sched[r["service_id"]].append(r)
        elif r["location_id"] is not None:
            l_sched[r["location_id"]].append(r)

    exc_t = m.ScheduleException.__table__
    l_exc: dict[str, list[Any]] = defaultdict(list)
    s_exc: dict[str, list[Any]] = defaultdict(list)
    stmt = select(*_cols(exc_t)).where(
        exc_t.c.archived_at.is_(None),
        or_(
            _in(session, exc_t.c.service_id, sid_params),
            _in(session, exc_t.c.location_id, loc_params),
        ),
    )
    for r in session.execute(stmt).mappings().all():
        if r["service_id"] is not None:
            s_exc[r["service_id"]].append(r)
        else:
            l_exc[r["location_id"]].append(r)

    langs: dict[str, list[Any]] = defaultdict(list)
    for r in _rows(session, m.Language.__table__, "service_id", sids):  # type: ignore[arg-type]
        langs[r["service_id"]].append(r)
    docs: dict[str, list[Any]] = defaultdict(list)
    for r in _rows(session, m.RequiredDocument.__table__, "service_id", sids):  # type: ignore[arg-type]
        docs[r["service_id"]].append(r)

    attr_t = m.Attribute.__table__
    term_t = m.TaxonomyTerm.__table__
    attrs: dict[str, list[Any]] = defaultdict(list)
    stmt = (
        select(*_cols(attr_t), *[_col(term_t.c[n], "term_" + n) for n in TERM_FIELDS])
        .join(term_t, term_t.c.id == attr_t.c.taxonomy_term_id)
        .where(
            attr_t.c.archived_at.is_(None),
            attr_t.c.link_entity == "service",
            _in(session, attr_t.c.link_id, sid_params),
        )
    )
    for r in session.execute(stmt).mappings().all():
        attrs[r["link_id"]].append(r)

    texts = _translations(session, [*sids, *orgs, *locations])

    def sort_key(r: Any) -> str:
        return str(r["id"])

    for s in services:
        yield _service_dict(
            s,
            org=orgs.get(s["organization_id"]),
            sals=sorted(sals.get(s["id"], []), key=sort_key),
            locations=locations,
            addresses=addresses,
            access=access,
            s_phones=sorted(s_phones.get(s["id"], []), key=sort_key),
            l_phones=l_phones,
            s_sched=sorted(s_sched.get(s["id"], []), key=sort_key),
            l_sched=l_sched,
            sal_sched=sal_sched,
            s_exc=s_exc.get(s["id"], []),
            l_exc=l_exc,
            langs=sorted(langs.get(s["id"], []), key=sort_key),
            docs=sorted(docs.get(s["id"], []), key=sort_key),
            attrs=sorted(attrs.get(s["id"], []), key=lambda r: (r["term_code"], str(r["id"]))),
            texts=texts,
            places=places,
            options=options,
        )


def _exceptions(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        _pick(r, EXCEPTION_EXT_FIELDS)
        for r in sorted(rows, key=lambda r: (r["date"], str(r["id"])))
    ]


def _location_dict(
    loc: Any,
    *,
    addresses: dict[str, list[Any]],
    access: dict[str, list[Any]],
    l_phones: dict[str, list[Any]],
    l_sched: dict[str, list[Any]],
    l_exc: dict[str, list[Any]],
    texts: dict[str, dict[str, dict[str, str]]],
    places: PlaceNames,
    options: ExportOptions,
) -> dict[str, Any]:
    view = public_location_view(loc)
    redact = not options.include_confidential
    out = _pick(loc, LOCATION_FIELDS)
    out.update(_pick(loc, LOCATION_EXT, prefix=EXT))
    if loc["capacity_available"] is None and loc["capacity_maximum"] is not None:
        out[EXT + "capacity_maximum"] = loc["capacity_maximum"]  # no HSDS capacity without it
    if loc["external_identifier_type"] == OSM_ID_TYPE:  # ODbL: the attribution travels along
        out[EXT + "attribution"] = OSM_ATTRIBUTION
    region_id = loc["region_id"] or places.region_of(loc["place_id"])
    if (region := places.describe(region_id)) is not None:
        out[EXT + "region"] = region
    city = places.describe(loc["place_id"])
    country = places.country_code(loc["place_id"] or region_id)
    if country:
        out[EXT + "country"] = country
    phones = sorted(l_phones.get(loc["id"], []), key=lambda r: str(r["id"]))
    addrs = sorted(addresses.get(loc["id"], []), key=lambda r: str(r["id"]))
    loc_texts = texts.get(loc["id"], {})
    if redact:
        for key in ("latitude", "longitude"):
            out.pop(key, None)
        if view.latitude is not None and view.longitude is not None:
            out["latitude"] = float(view.latitude)
            out["longitude"] = float(view.longitude)
        if not view.show_directions:
            for key in ("description", "transportation"):
                out.pop(key, None)
            loc_texts = {
                k: v for k, v in loc_texts.items() if k not in ("description", "transportation")
            }
        if not view.show_address:
            for key in (
                "name",
                "alternate_name",
                "url",
                "external_identifier",
                "external_identifier_type",
            ):
                out.pop(key, None)
            loc_texts = {}
            addrs = []
            city = None
        if view.only_hotline_phones:
            phones = [p for p in phones if p["is_hotline"]]
    if city is not None:
        out[EXT + "place"] = city
    if loc_texts:
        out[EXT + "translations"] = loc_texts
    out["addresses"] = []
    for a in addrs:
        addr = _pick(a, ADDRESS_FIELDS)
        if redact and not view.show_street_address:
            addr["address_1"] = ""
            addr["postal_code"] = ""
            addr.pop("address_2", None)
            addr.pop("attention", None)
        addr.setdefault("state_province", "")
        addr.setdefault("postal_code", "")
        out["addresses"].append(addr)
    out["phones"] = [_phone(p) for p in phones]
    out["schedules"] = [
        _schedule(r) for r in sorted(l_sched.get(loc["id"], []), key=lambda r: str(r["id"]))
    ]
    if not redact or view.show_directions:
        out["accessibility"] = [
            _pick(r, ACCESSIBILITY_FIELDS)
            for r in sorted(access.get(loc["id"], []), key=lambda r: str(r["id"]))
        ]
    exc = _exceptions(l_exc.get(loc["id"], []))
    if exc:
        out[EXT + "schedule_exceptions"] = exc
    if (
        redact
        and loc["privacy"] != m.Privacy.exact.value
        and str(jsonable(loc["privacy"])) != "exact"
    ):
        out[EXT + "redacted"] = True
    return out


def _service_dict(
    s: Any,
    *,
    org: Any,
    sals: list[Any],
    locations: dict[str, Any],
    addresses: dict[str, list[Any]],
    access: dict[str, list[Any]],
    s_phones: list[Any],
    l_phones: dict[str, list[Any]],
    s_sched: list[Any],
    l_sched: dict[str, list[Any]],
    sal_sched: dict[str, list[Any]],
    s_exc: list[Any],
    l_exc: dict[str, list[Any]],
    langs: list[Any],
    docs: list[Any],
    attrs: list[Any],
    texts: dict[str, dict[str, dict[str, str]]],
    places: PlaceNames,
    options: ExportOptions,
) -> dict[str, Any]:
    out = _pick(s, SERVICE_FIELDS)
    status = jsonable(s["status"])
    if status == m.ServiceStatus.full.value:
        out["status"] = "active"  # HSDS has no "full"; the crisis status travels in x_status
    if s["assured_date"] is not None:
        out["assured_date"] = s["assured_date"].date().isoformat()
        out[EXT + "assured_at"] = jsonable(s["assured_date"])
    out["last_modified"] = jsonable(s["updated_at"])
    out[EXT + "status"] = status
    out.update(_pick(s, SERVICE_EXT, prefix=EXT))
    if s_texts := texts.get(s["id"]):
        out[EXT + "translations"] = s_texts
    if org is not None:
        o = _pick(org, ORGANIZATION_FIELDS)
        o.update(_pick(org, ORGANIZATION_EXT, prefix=EXT))
        o.setdefault("description", "")
        o["additional_websites"] = []
        if o_texts := texts.get(org["id"]):
            o[EXT + "translations"] = o_texts
        out["organization"] = o
    out["phones"] = [_phone(p) for p in s_phones]
    out["schedules"] = [_schedule(r) for r in s_sched]
    out["languages"] = [_pick(r, LANGUAGE_FIELDS) for r in langs]
    out["required_documents"] = [_pick(r, REQUIRED_DOCUMENT_FIELDS) for r in docs]
    out["attributes"] = [
        {
            **_pick(a, ATTRIBUTE_FIELDS),
            "label": a["term_name"],
            "taxonomy_term": {
                **{n: jsonable(a["term_" + n]) for n in TERM_FIELDS if a["term_" + n] is not None},
                "description": a["term_description"] or "",
            },
        }
        for a in attrs
    ]
    exc = _exceptions(s_exc)
    if exc:
        out[EXT + "schedule_exceptions"] = exc
    out["service_at_locations"] = []
    out["capacities"] = []
    out["additional_urls"] = []
    for sal in sals:
        loc = locations.get(sal["location_id"])
        if loc is None:
            continue
        if (held := hsds31.capacity(loc, s["id"])) is not None:
            out["capacities"].append(held)
        item = _pick(sal, SAL_FIELDS)
        item["schedules"] = [
            _schedule(r) for r in sorted(sal_sched.get(sal["id"], []), key=lambda r: str(r["id"]))
        ]
        item["location"] = _location_dict(
            loc, addresses=addresses, access=access, l_phones=l_phones, l_sched=l_sched,
            l_exc=l_exc, texts=texts, places=places, options=options,
        )  # fmt: skip
        item["service_areas"] = hsds31.service_areas(
            sal["id"], s["id"], item["location"].get(EXT + "region")
        )
        out["service_at_locations"].append(item)
        if EXT + "attribution" in item["location"]:
            out[EXT + "attribution"] = item["location"][EXT + "attribution"]
    out[EXT + "export_scope"] = options.scope
    return out
