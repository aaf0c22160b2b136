"""Streams the directory as HSDS 3 service objects, batch by batch (keyset pagination on the
service id, one query per related table per batch), so memory stays flat however large it is.

Every export format is built from these dicts. Crisis extensions travel as extra fields whose
names start with `x_` (HSDS allows additional properties); the public redaction of whereabouts
(`directory.listings.privacy`) is applied here unless the caller asks for the admin view.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from directory.exchange import hsds31
from directory.exchange.export_sql import (
    Reader,
    _col,
    _fetch,
    _fetch_statement,
    _hex_to_text,
    _reader,
    ids_value,
    in_ids,
    reader,
)
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

# The columns each batch look-up reads (no more: every column read costs time per row).
SERVICE_COLUMNS = (*SERVICE_FIELDS, *SERVICE_EXT, "updated_at")
ORGANIZATION_COLUMNS = (*ORGANIZATION_FIELDS, *ORGANIZATION_EXT)
LOCATION_COLUMNS = (
    *LOCATION_FIELDS, *LOCATION_EXT, "capacity_available", "capacity_maximum",
    "capacity_updated", "updated_at", "region_id", "place_id",
)  # fmt: skip
PHONE_COLUMNS = (*PHONE_FIELDS, *PHONE_EXT)
SCHEDULE_COLUMNS = (*SCHEDULE_FIELDS, *SCHEDULE_EXT)
EXCEPTION_COLUMNS = (*EXCEPTION_EXT_FIELDS, "service_id", "location_id")


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
    """The non-empty `names` of a row as JSON values (`prefix`ed; with a prefix, an empty
    string counts as empty too)."""
    return _picker((tuple(names), prefix))(row)


@functools.cache
def _picker(*parts: tuple[tuple[str, ...], str]) -> Any:
    """`_pick` of these (names, prefix) parts one after the other, as one function written out
    for them (no loop, no per-call key list): it runs for every record exported, ~15 times a
    service. Values read by `Reader` are mostly text, numbers and booleans, kept as they are;
    anything else goes through `jsonable`."""
    lines = ["def pick(row):", "    out = {}"]
    for names, prefix in parts:
        for name in names:
            empty = ' and v != ""' if prefix else ""  # (with a prefix "" is empty too)
            lines += [
                f"    v = row[{name!r}]",
                f"    if v is not None{empty}:",
                f"        out[{prefix + name!r}] = v if (t := type(v)) is str or t is int "
                "or t is float or t is bool else jsonable(v)",
            ]
    lines.append("    return out")
    scope: dict[str, Any] = {"jsonable": jsonable}
    exec("\n".join(lines) + "\n", scope)  # noqa: S102 - generated from our own field names
    return scope["pick"]


@functools.cache
def _picked_builder(read: Reader, *parts: tuple[tuple[str, ...], str]) -> Any:
    """A function turning the driver's tuples of `read` straight into `_picker(*parts)`'s
    dicts (the values converted as `read.rows` would, then picked), written out for them: no
    row dict made only to be picked (for the kinds of record whose picked fields are all their
    columns; the grouping keys are then read with `.get`)."""
    index = {key: i for i, key in enumerate(read.keys)}
    converters = dict(read.converters)
    lines = ["def build(raw):", "    rows = []", "    append = rows.append"]
    target = ", ".join(f"v{i}" for i in range(len(read.keys)))
    lines += [f"    for {target}{',' if len(read.keys) == 1 else ''} in raw:", "        out = {}"]
    scope: dict[str, Any] = {"jsonable": jsonable}
    for names, prefix in parts:
        for name in names:
            i = index[name]
            v = f"v{i}"
            convert = converters.get(i)
            check = "x is not None"  # (a converter may give None)
            if convert is None:
                value, check = v, "True"
            elif convert is _hex_to_text:
                value = (
                    f"({v} if len({v}) != 32 else "
                    f'f"{{{v}[:8]}}-{{{v}[8:12]}}-{{{v}[12:16]}}-{{{v}[16:20]}}-{{{v}[20:]}}")'
                )
                check = "True"
            else:
                scope[f"c{i}"] = convert
                value = f"c{i}({v})"
            if prefix:  # (with a prefix "" is empty too)
                check = 'x is not None and x != ""'
            lines += [
                f"        if {v} is not None:",
                f"            x = {value}",
                f"            if {check}:",
                f"                out[{prefix + name!r}] = x if (t := type(x)) is str or t is int "
                "or t is float or t is bool else jsonable(x)",
            ]
    lines += ["        append(out)", "    return rows"]
    exec("\n".join(lines) + "\n", scope)  # noqa: S102 - generated from our own field names
    return scope["build"]


def _picked_rows(
    session: Session,
    read: Reader,
    stmt: Any,
    params: dict[str, Any],
    *parts: tuple[tuple[str, ...], str],
) -> list[dict[str, Any]]:
    """The rows of `stmt` as `_picker(*parts)` writes them (`_picked_builder`)."""
    raw = read.tuples(session, stmt, params)
    return _picked_builder(read, *parts)(raw) if raw else []


def _fetch_picked(
    session: Session, table: Any, names: tuple[str, ...], column: str, ids: list[str]
) -> list[dict[str, Any]]:
    """`_fetch` of these columns, each row as `_pick` of all of them writes it."""
    if not ids:
        return []
    dialect = session.get_bind().dialect
    read, stmt = _fetch_statement(dialect, table, names, column)
    return _picked_rows(session, read, stmt, {"ids": ids_value(dialect, ids)}, (names, ""))


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
    dialect = session.get_bind().dialect
    read, first, after = _service_statements(dialect, options.batch_size, options.include_demo)
    rows = read.rows(session, first)
    while rows:
        yield rows
        rows = read.rows(session, after, {"last": uuid.UUID(rows[-1]["id"])})


@functools.cache
def _service_statements(dialect: Dialect, size: int, include_demo: bool) -> tuple[Any, Any, Any]:
    """The first batch's statement and the next ones' (after the id `:last`), built once."""
    t: Table = m.Service.__table__  # type: ignore[assignment]
    read = _reader(dialect, t, SERVICE_COLUMNS, "")
    stmt = select(*read.exprs).where(t.c.archived_at.is_(None)).order_by(t.c.id).limit(size)
    if not include_demo:
        stmt = stmt.where(t.c.is_demo.is_(False))
    return read, stmt, stmt.where(t.c.id > bindparam("last", type_=t.c.id.type))


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

        self.terms: _Terms | None = None  # the taxonomy, read by the first batch (`_terms`)
        self._located: dict[tuple[str | None, str | None], tuple[Any, Any, Any]] = {}

    def describe(self, place_id: Any) -> dict[str, Any] | None:
        row = self.places.get(str(place_id)) if place_id else None
        if row is None:
            return None
        return {"id": row.id, "kind": jsonable(row.kind), "code": row.code, "name": row.name}

    def locate(self, place_id: str | None, region_id: str | None) -> tuple[Any, Any, Any]:
        """A location's (region, place, country code) as `_location_dict` writes them,
        worked out once per place and region (region and place dicts are fresh copies)."""
        key = (place_id, region_id)
        found = self._located.get(key)
        if found is None:
            region_id = region_id or self.region_of(place_id)
            found = (
                self.describe(region_id),
                self.describe(place_id),
                self.country_code(place_id or region_id),
            )
            self._located[key] = found
        region, place, country = found
        return (
            None if region is None else dict(region),
            None if place is None else dict(place),
            country,
        )

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
    """Entity id (text form) → field → locale → text, fields and locales sorted (in the order
    the rows came, PostgreSQL's parallel scans of a large table made two exports of the same
    data differ). Read as the driver's tuples (a dict per translation row cost more than the
    rest of this), the entity ids formatted once per entity, not per row."""
    out: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    ids = [str(i) for i in ids]
    if not ids:
        return out
    dialect = session.get_bind().dialect
    read, stmt = _batch_statements(dialect)["translation"]
    by_entity: dict[str, dict[str, dict[str, str]]] = {}
    for entity, field, locale, value in read.tuples(
        session, stmt, {"ids": ids_value(dialect, ids)}
    ):
        fields = by_entity.get(entity)
        if fields is None:
            by_entity[entity] = {field: {locale: value}}
        elif (locales := fields.get(field)) is None:
            fields[field] = {locale: value}
        else:
            locales[locale] = value
    for entity, fields in by_entity.items():
        for name, locales in fields.items():
            if len(locales) > 1:
                fields[name] = dict(sorted(locales.items()))
        out[_hex_to_text(entity)] = dict(sorted(fields.items())) if len(fields) > 1 else fields
    return out


_PHONE_PICKED = tuple(f for f in PHONE_FIELDS if f != "extension")
# `_pick` of each kind of record, written out once (`_picker`)
_pick_phone = _picker((_PHONE_PICKED, ""))
_SCHEDULE_PARTS = ((SCHEDULE_FIELDS, ""), (SCHEDULE_EXT, EXT))
_pick_exception = _picker((EXCEPTION_EXT_FIELDS, ""))
_pick_location = _picker((LOCATION_FIELDS, ""), (LOCATION_EXT, EXT))
_pick_address = _picker((ADDRESS_FIELDS, ""))
_pick_access = _picker((ACCESSIBILITY_FIELDS, ""))
_pick_service = _picker((SERVICE_FIELDS, ""))
_pick_service_ext = _picker((SERVICE_EXT, EXT))
_pick_organization = _picker((ORGANIZATION_FIELDS, ""), (ORGANIZATION_EXT, EXT))
_pick_sal = _picker((SAL_FIELDS, ""))


def _phone(row: Any) -> dict[str, Any]:
    out = _pick_phone(row)
    ext = row["extension"]
    if ext:
        if ext.isdigit() and not ext.startswith("0"):
            out["extension"] = int(ext)  # HSDS types extension as a number
        else:
            out[EXT + "extension"] = ext
    out[EXT + "is_hotline"] = bool(row["is_hotline"])
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


class _Terms:
    """The taxonomy (small): each term as an attribute's `taxonomy_term`, built once."""

    def __init__(self, session: Session) -> None:
        t: Table = m.TaxonomyTerm.__table__  # type: ignore[assignment]
        read = reader(session, t, TERM_FIELDS)
        self.terms: dict[str, tuple[Any, dict[str, Any]]] = {}
        for row in read.rows(session, select(*read.exprs)):
            term = {n: jsonable(row[n]) for n in TERM_FIELDS if row[n] is not None}
            term["description"] = row["description"] or ""
            self.terms[row["id"]] = (row, term)


def _terms(session: Session, places: PlaceNames) -> _Terms:
    """The taxonomy, read once per export (kept with its gazetteer, which lives as long)."""
    if places.terms is None:
        places.terms = _Terms(session)
    return places.terms


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def _by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in id order (text order of the ids, as always)."""
    if len(rows) < 2:
        return rows
    return sorted(rows, key=_ID)


_ID = operator.itemgetter("id")


@functools.cache
def _batch_statements(dialect: Dialect) -> dict[str, tuple[Any, Any]]:
    """The look-ups of a batch that `_fetch` does not cover (several id lists or conditions),
    built once: the ids are parameters (`in_ids`), given at execution."""
    out: dict[str, tuple[Any, Any]] = {}
    t: Any = m.Translation.__table__
    read = _reader(dialect, t, ("entity_id", "field", "locale", "value"), "")
    out["translation"] = (read, select(*read.exprs).where(in_ids(dialect, t.c.entity_id, "ids")))
    t = m.Phone.__table__
    read = _reader(dialect, t, PHONE_COLUMNS, "")
    stmt = select(*read.exprs).where(
        t.c.archived_at.is_(None),
        or_(in_ids(dialect, t.c.service_id, "sids"), in_ids(dialect, t.c.location_id, "lids")),
    )
    out["phone"] = (read, stmt)
    t = m.Schedule.__table__
    read = _reader(dialect, t, SCHEDULE_COLUMNS, "")
    stmt = select(*read.exprs).where(
        t.c.archived_at.is_(None),
        or_(
            in_ids(dialect, t.c.service_id, "sids"),
            in_ids(dialect, t.c.location_id, "lids"),
            in_ids(dialect, t.c.service_at_location_id, "salids"),
        ),
    )
    out["schedule"] = (read, stmt)
    t = m.ScheduleException.__table__
    read = _reader(dialect, t, EXCEPTION_COLUMNS, "")
    stmt = select(*read.exprs).where(
        t.c.archived_at.is_(None),
        or_(in_ids(dialect, t.c.service_id, "sids"), in_ids(dialect, t.c.location_id, "lids")),
    )
    out["exception"] = (read, stmt)
    t = m.Attribute.__table__
    read = _reader(dialect, t, ATTRIBUTE_FIELDS, "")
    stmt = select(*read.exprs).where(
        t.c.archived_at.is_(None),
        t.c.link_entity == "service",
        in_ids(dialect, t.c.link_id, "sids"),
    )
    out["attribute"] = (read, stmt)
    return out


def build_batch(
    session: Session, services: list[Any], *, places: PlaceNames, options: ExportOptions
) -> Iterator[dict[str, Any]]:
    """The service objects of a batch of service rows (ids in text form), in their order."""
    sids = [s["id"] for s in services]
    orgs = {
        r["id"]: r
        for r in _fetch(
            session,
            m.Organization.__table__,  # type: ignore[arg-type]
            ORGANIZATION_COLUMNS,
            "id",
            {s["organization_id"] for s in services if s["organization_id"] is not None},
        )
    }
    sal_rows = _fetch(session, m.ServiceAtLocation.__table__, SAL_FIELDS, "service_id", sids)  # type: ignore[arg-type]
    sals = _by(sal_rows, "service_id")
    loc_ids = {r["location_id"] for r in sal_rows}
    locations = {
        r["id"]: r
        for r in _fetch(session, m.Location.__table__, LOCATION_COLUMNS, "id", loc_ids)  # type: ignore[arg-type]
    }
    loc_list = list(locations)
    addresses = _by(
        _fetch(session, m.Address.__table__, ADDRESS_FIELDS, "location_id", loc_list),  # type: ignore[arg-type]
        "location_id",
    )
    access = _by(
        _fetch(session, m.Accessibility.__table__, ACCESSIBILITY_FIELDS, "location_id", loc_list),  # type: ignore[arg-type]
        "location_id",
    )

    # (an empty list of places matches nothing, as the zero UUID did before)
    dialect = session.get_bind().dialect
    statements = _batch_statements(dialect)
    sids_value = ids_value(dialect, sids)
    lids_value = ids_value(dialect, loc_list)
    s_phones: dict[str, list[Any]] = defaultdict(list)
    l_phones: dict[str, list[Any]] = defaultdict(list)
    read, stmt = statements["phone"]
    sid_set = set(sids)
    for r in read.rows(session, stmt, {"sids": sids_value, "lids": lids_value}):
        if r["service_id"] is not None:
            if r["service_id"] in sid_set:
                s_phones[r["service_id"]].append(r)
        elif r["location_id"] is not None:
            l_phones[r["location_id"]].append(r)

    s_sched: dict[str, list[Any]] = defaultdict(list)
    l_sched: dict[str, list[Any]] = defaultdict(list)
    sal_sched: dict[str, list[Any]] = defaultdict(list)
    sal_ids = [r["id"] for r in sal_rows]
    read, stmt = statements["schedule"]
    params = {"sids": sids_value, "lids": lids_value, "salids": ids_value(dialect, sal_ids)}
    # (schedules as they are written: `_schedule` of each, made once here)
    for r in _picked_rows(session, read, stmt, params, *_SCHEDULE_PARTS):
        if (key := r.get("service_at_location_id")) is not None:
            sal_sched[key].append(r)
        elif (key := r.get("service_id")) is not None:
            s_sched[key].append(r)
        elif (key := r.get("location_id")) is not None:
            l_sched[key].append(r)

    l_exc: dict[str, list[Any]] = defaultdict(list)
    s_exc: dict[str, list[Any]] = defaultdict(list)
    read, stmt = statements["exception"]
    for r in read.rows(session, stmt, {"sids": sids_value, "lids": lids_value}):
        if r["service_id"] is not None:
            s_exc[r["service_id"]].append(r)
        else:
            l_exc[r["location_id"]].append(r)

    # (languages, documents and attributes as they are written, picked here)
    langs = _by(
        _fetch_picked(session, m.Language.__table__, LANGUAGE_FIELDS, "service_id", sids),
        "service_id",
    )
    docs = _by(
        _fetch_picked(
            session, m.RequiredDocument.__table__, REQUIRED_DOCUMENT_FIELDS, "service_id", sids
        ),
        "service_id",
    )

    # Attributes of services whose term exists (the taxonomy is read once: `_Terms`).
    terms: dict[Any, tuple[Any, dict[str, Any]]] = _terms(session, places).terms
    attrs: dict[str, list[Any]] = defaultdict(list)
    read, stmt = statements["attribute"]
    for r in _picked_rows(session, read, stmt, {"sids": sids_value}, (ATTRIBUTE_FIELDS, "")):
        if (term := terms.get(r.get("taxonomy_term_id"))) is not None:
            attrs[r["link_id"]].append((r, term))

    texts = _translations(session, [*sids, *orgs, *locations])

    empty: list[Any] = []
    for s in services:
        sid = s["id"]
        yield _service_dict(
            s,
            org=orgs.get(s["organization_id"]),
            sals=_by_id(sals.get(sid, empty)),
            locations=locations,
            addresses=addresses,
            access=access,
            s_phones=_by_id(s_phones.get(sid, empty)),
            l_phones=l_phones,
            s_sched=_by_id(s_sched.get(sid, empty)),
            l_sched=l_sched,
            sal_sched=sal_sched,
            s_exc=s_exc.get(sid, empty),
            l_exc=l_exc,
            langs=_by_id(langs.get(sid, empty)),
            docs=_by_id(docs.get(sid, empty)),
            attrs=sorted(attrs.get(sid, empty), key=lambda a: (a[1][0]["code"], a[0]["id"])),
            texts=texts,
            places=places,
            options=options,
        )


def _exceptions(rows: list[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    return [_pick_exception(r) for r in sorted(rows, key=lambda r: (r["date"], str(r["id"])))]


_DIRECTIONS = ("description", "transportation")
_ADDRESS_KEYS = ("name", "alternate_name", "url", "external_identifier", "external_identifier_type")


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
    redact = not options.include_confidential
    lid = loc["id"]
    out = _pick_location(loc)
    if loc["capacity_available"] is None and loc["capacity_maximum"] is not None:
        out[EXT + "capacity_maximum"] = loc["capacity_maximum"]  # no HSDS capacity without it
    if loc["external_identifier_type"] == OSM_ID_TYPE:  # ODbL: the attribution travels along
        out[EXT + "attribution"] = OSM_ATTRIBUTION
    region, city, country = places.locate(loc["place_id"], loc["region_id"])
    if region is not None:
        out[EXT + "region"] = region
    if country:
        out[EXT + "country"] = country
    phones = _by_id(l_phones.get(lid, []))
    addrs = _by_id(addresses.get(lid, []))
    loc_texts = texts.get(lid, {})
    show_directions = True
    if redact:
        view = public_location_view(_Whereabouts(loc))
        show_directions = view.show_directions
        for key in ("latitude", "longitude"):
            out.pop(key, None)
        if view.latitude is not None and view.longitude is not None:
            out["latitude"] = float(view.latitude)
            out["longitude"] = float(view.longitude)
        if not view.show_directions:
            for key in _DIRECTIONS:
                out.pop(key, None)
            loc_texts = {k: v for k, v in loc_texts.items() if k not in _DIRECTIONS}
        if not view.show_address:
            for key in _ADDRESS_KEYS:
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
    street = not redact or view.show_street_address
    out["addresses"] = []
    for a in addrs:
        addr = _pick_address(a)
        if not street:
            addr["address_1"] = ""
            addr["postal_code"] = ""
            addr.pop("address_2", None)
            addr.pop("attention", None)
        addr.setdefault("state_province", "")
        addr.setdefault("postal_code", "")
        out["addresses"].append(addr)
    out["phones"] = [_phone(p) for p in phones]
    out["schedules"] = [dict(r) for r in _by_id(l_sched.get(lid, []))]  # (picked: fresh copies)
    if show_directions:
        out["accessibility"] = [_pick_access(r) for r in _by_id(access.get(lid, []))]
    exc = _exceptions(l_exc.get(lid, []))
    if exc:
        out[EXT + "schedule_exceptions"] = exc
    if (
        redact
        and loc["privacy"] != m.Privacy.exact.value
        and str(jsonable(loc["privacy"])) != "exact"
    ):
        out[EXT + "redacted"] = True
    return out


class _Whereabouts:
    """A location row (a dict) as `public_location_view` reads it."""

    __slots__ = ("latitude", "longitude", "privacy")

    def __init__(self, loc: dict[str, Any]) -> None:
        self.privacy = loc["privacy"]
        self.latitude = loc["latitude"]
        self.longitude = loc["longitude"]


def _assured_day(value: Any) -> str:
    """The UTC day of `assured_date` (text as `Reader` reads it, or a datetime)."""
    if isinstance(value, str):
        return value[:10]
    return str(value.date().isoformat())


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
    out = _pick_service(s)
    status = jsonable(s["status"])
    if status == m.ServiceStatus.full.value:
        out["status"] = "active"  # HSDS has no "full"; the crisis status travels in x_status
    if s["assured_date"] is not None:
        out["assured_date"] = _assured_day(s["assured_date"])
        out[EXT + "assured_at"] = jsonable(s["assured_date"])
    out["last_modified"] = jsonable(s["updated_at"])
    out[EXT + "status"] = status
    out.update(_pick_service_ext(s))
    if s_texts := texts.get(s["id"]):
        out[EXT + "translations"] = s_texts
    if org is not None:
        o = _pick_organization(org)
        o.setdefault("description", "")
        o["additional_websites"] = []
        if o_texts := texts.get(org["id"]):
            o[EXT + "translations"] = o_texts
        out["organization"] = o
    out["phones"] = [_phone(p) for p in s_phones]
    # (schedules, languages, documents: picked by `build_batch`, each this service's only)
    out["schedules"] = list(s_sched)
    out["languages"] = list(langs)
    out["required_documents"] = list(docs)
    out["attributes"] = [
        {**a, "label": term_row["name"], "taxonomy_term": dict(term)}
        for a, (term_row, term) in attrs
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
        item = _pick_sal(sal)
        item["schedules"] = list(_by_id(sal_sched.get(sal["id"], [])))  # (picked, its own)
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
