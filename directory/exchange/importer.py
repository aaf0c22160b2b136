"""Importing listings: read a file, validate every record, compare it with the directory and
report new / changed / unchanged records and every error (file, line or JSON path, field,
reason) — and, with `apply`, write all of it or nothing through the moderation write path.

Records are matched by id, else by the stored external id of the source (`--source`), so
re-importing the same file changes nothing and a changed file updates only what changed. Ids
are kept from the file when they are UUIDs, and derived deterministically (UUID 5 of source and
key) when they are not, so a spreadsheet without ids still matches itself on the next import.

Work is batched (a few IN queries per batch of services), so a dry run of 100,000 services runs
in flat memory; `apply` reads the file a second time and writes after a clean dry run only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from directory.db import session_scope, sqlite_read_only, utcnow
from directory.exchange.readers import (
    SRC,
    ImportRefused,
    Item,
    read_hsds_csv,
    read_hsds_json,
    read_simple_csv,
)
from directory.exchange.records import EXT
from directory.exchange.safety import is_formula, unneutralise_cell
from directory.listings import models as m
from directory.moderation.fields import FIELDS, CleanMemo, F, FieldError, clean, dump

if TYPE_CHECKING:
    from directory.exchange.bulk_import import BulkImport

NAMESPACE = uuid.UUID("4f1d7c8e-5d0b-4a57-9a8e-7c0a3e1f6b21")
BATCH = 500
MAX_ERRORS = 1000  # listed one by one; beyond that only counted
ENTITIES = (
    "organization", "service", "location", "address", "phone", "schedule", "schedule_exception",
    "language", "required_document", "accessibility",
)  # fmt: skip

# Fields compared and written, per record type (FIELDS minus references handled here).
REFS = {
    "organization_id",
    "service_id",
    "location_id",
    "place_id",
    "region_id",
    "alternative_service_id",
    "service_ids",
}


def _fields(entity: str) -> list[str]:
    return [n for n in FIELDS[entity] if n not in REFS and n != "categories"]


@dataclass
class Problem:
    file: str
    line: int | None
    path: str
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        where += f" {self.path}" if self.path and not self.path.startswith("line ") else ""
        return f"{where}: {self.field or '-'}: {self.reason}"


@dataclass
class Report:
    file: str
    format: str
    source: str | None
    applied: bool = False
    published: bool = False
    refused: str | None = None
    services_read: int = 0
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {e: {"new": 0, "changed": 0, "unchanged": 0} for e in ENTITIES}
    )
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    change_requests: int = 0
    pending: int = 0
    held: int = 0  # contact changes published by one admin: they wait for a second moderator
    changed: list[dict[str, Any]] = field(default_factory=list)  # first changes, for the reader
    _warned: set[tuple[str, str]] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error_count == 0

    def error(self, problem: Problem) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(problem)

    def warn(self, problem: Problem) -> None:
        key = (problem.field, problem.reason)
        if key in self._warned:
            return  # the same warning once (e.g. for every place of a public export)
        self._warned.add(key)
        if len(self.warnings) < MAX_ERRORS:
            self.warnings.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "source": self.source,
            "ok": self.ok,
            "applied": self.applied,
            "published": self.published,
            "refused": self.refused,
            "services_read": self.services_read,
            "counts": self.counts,
            "error_count": self.error_count,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "change_requests": self.change_requests,
            "pending": self.pending,
            "held": self.held,
            "changed": self.changed,
        }


# --- normalised records -----------------------------------------------------------------------


@dataclass
class Rec:
    """One record to compare and maybe write: its id, the fields the file states, where it is."""

    entity: str
    id: uuid.UUID
    payload: dict[str, Any]
    file: str
    line: int | None
    path: str
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    external: tuple[str, str] | None = None
    parent: dict[str, uuid.UUID] = field(default_factory=dict)  # service_id / location_id ...
    # filled by the comparison
    state: str = "new"  # new | changed | unchanged
    existing_id: uuid.UUID | None = None
    changed_fields: list[str] = field(default_factory=list)
    base_version: int | None = None

    def fields(self) -> dict[str, Any]:
        """The payload without the importer's own `__` keys."""
        return {k: v for k, v in self.payload.items() if not k.startswith("__")}

    def changes(self) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
        """What a changed record updates: (fields, translations per field and locale)."""
        payload = self.fields()
        changes = {n: payload[n] for n in self.changed_fields if "@" not in n and n in payload}
        texts: dict[str, dict[str, str]] = {}
        for n in self.changed_fields:
            if "@" in n:
                name, locale = n.split("@", 1)
                texts.setdefault(name, {})[locale] = self.translations[name][locale]
        return changes, texts


@dataclass
class Bundle:
    service: Rec
    organization: Rec | None
    locations: list[Rec]
    children: list[Rec]  # address, phone, schedule, schedule_exception, language, ...
    categories: list[str] | None
    new_links: list[tuple[uuid.UUID, uuid.UUID]] = field(
        default_factory=list
    )  # (location, service)
    partial: bool = False  # from a spreadsheet: only the columns it has are compared
    archive: list[tuple[str, uuid.UUID]] = field(default_factory=list)


class _Places:
    def __init__(self, session: Session) -> None:
        t = m.Place.__table__
        rows = session.execute(select(t.c.id, t.c.kind, t.c.code, t.c.name, t.c.aliases)).all()
        self.ids = {r.id for r in rows}
        self.by_code = {r.code.casefold(): r.id for r in rows if r.code}
        self.by_name: dict[tuple[str, str], uuid.UUID] = {}
        for r in rows:
            kind = str(r.kind.value if hasattr(r.kind, "value") else r.kind)
            for alias in [r.name, *(r.aliases or "").split()]:
                self.by_name.setdefault((kind, alias.casefold()), r.id)

    def find(self, ref: Any, kind: str) -> uuid.UUID | None:
        if isinstance(ref, dict):
            code, pid, name = ref.get("code"), ref.get("id"), ref.get("name")
        else:
            code, pid, name = None, None, ref
        if isinstance(code, str) and code.casefold() in self.by_code:
            return self.by_code[code.casefold()]
        if isinstance(pid, str):
            try:
                if uuid.UUID(pid) in self.ids:
                    return uuid.UUID(pid)
            except ValueError:
                pass
        if isinstance(name, str) and name.strip():
            return self.by_name.get((kind, name.strip().casefold()))
        return None


class Context:
    """Reference data loaded once per import, and the rules shared by all batches."""

    def __init__(self, session: Session, *, source: str | None, fmt: str, now: dt.datetime) -> None:
        self.session = session
        self.source = source
        self.format = fmt
        self.now = now
        self.places = _Places(session)
        term = m.TaxonomyTerm.__table__
        self.terms = {r.code: r.id for r in session.execute(select(term.c.code, term.c.id))}
        self.term_ids = {v: k for k, v in self.terms.items()}
        # Kept referenced: the write path's rules look locales up with session.get, which
        # answers from the identity map only while the objects are alive.
        self._locale_rows = list(session.scalars(select(m.Locale)))
        # Same for places (regions and cities: every change's region scope and place references).
        self._place_rows = list(session.scalars(select(m.Place)))
        self.locales = {row.code for row in self._locale_rows}
        self.seen: dict[str, set[uuid.UUID]] = defaultdict(set)
        # the write path's `clean`, remembered for short repeated values; references are
        # looked up each time
        self.clean = CleanMemo(
            session, now=self.now, max_len=40, skip_kinds=frozenset({"uuid", "uuids", "codes"})
        )

    def derived_id(self, entity: str, key: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{self.source or ''}|{entity}|{key}")


_NO_FUTURE = {"status_until"}  # a past "until" in a file is history, not an error
_UNCHECKED: dict[int, F] = {}


def _without_check(spec: F) -> F:
    """`spec` without its `check` (made once per spec, not once per record)."""
    out = _UNCHECKED.get(id(spec))
    if out is None:
        out = _UNCHECKED[id(spec)] = dataclasses.replace(spec, check="")
    return out


def _coerce(spec: F, value: Any, textual: bool) -> Any:
    """Text from CSV cells (and JSON numbers) into the types the field rules expect."""
    if value is None:
        return None
    if isinstance(value, str):
        value = unneutralise_cell(value)
        if is_formula(value) and value.startswith("="):
            raise FieldError("looks like a spreadsheet formula; type the value itself")
    if value is None or (textual and value == ""):
        return None
    if spec.kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise FieldError("must be a whole number") from None
    if spec.kind == "bool" and isinstance(value, str):
        v = value.strip().casefold()
        if v in ("yes", "y", "true", "1", "так", "да", "tak", "ja", "نعم"):
            return True
        if v in ("no", "n", "false", "0", "ні", "нет", "nie", "nein", "لا"):
            return False
        raise FieldError("must be yes or no")
    if spec.kind == "decimal" and isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise FieldError("must be a number") from None
    if (
        spec.kind in ("str", "text")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return str(value)
    return value


def _clean_payload(
    ctx: Context,
    report: Report,
    entity: str,
    raw: dict[str, Any],
    *,
    names: Iterable[str],
    where: tuple[str, int | None, str],
    textual: bool,
    partial: bool,
    present: set[str] | None = None,
) -> dict[str, Any] | None:
    """Validate the fields of one record with the write path's own rules (moderation.fields)."""
    specs = FIELDS[entity]
    out: dict[str, Any] = {}
    ok = True
    file, line, path = where
    for name in names:
        if partial and present is not None and name not in present:
            continue
        spec = specs[name]
        if name in _NO_FUTURE:
            spec = _without_check(spec)
        try:
            value = _coerce(spec, raw.get(name), textual)
            if value is None:
                if spec.required:
                    raise FieldError("is required")
                if not spec.nullable:
                    if spec.kind in ("str", "text") and name not in ("source_locale", "timezone"):
                        out[name] = ""
                    continue
                out[name] = None
                continue
            out[name] = ctx.clean(spec, value)
        except FieldError as exc:
            ok = False
            report.error(Problem(file, line, path, name, str(exc)))
    return out if ok else None


def _where(obj: dict[str, Any], item: Item, path: str) -> tuple[str, int | None, str]:
    src = obj.get(SRC)
    if src:  # a row of a CSV table: its file and line say where
        return src[0], src[1], ""
    return item.file, item.line, path


def _uuid_or(value: Any, fallback: Callable[[], uuid.UUID]) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return fallback()


# --- HSDS-shaped item → records ---------------------------------------------------------------

#: What a public export leaves out or rounds for approximate and confidential places.
REDACTED_FIELDS = {
    "latitude", "longitude", "name", "alternate_name", "url", "description", "transportation",
    "external_identifier", "external_identifier_type",
}  # fmt: skip
REDACTED_WARNING = (
    "places from a public export (approximate or confidential) lack their exact whereabouts: "
    "coordinates, street addresses and non-hotline phones are left as they are"
)

SERVICE_MAP = {n: n for n in _fields("service")} | {
    n: EXT + n
    for n in (
        "status_reason",
        "status_reason_code",
        "status_until",
        "open_during_alert",
        "free_of_charge",
        "audience",
        "source_locale",
    )
}
ORG_MAP = {n: n for n in _fields("organization")} | {"source_locale": EXT + "source_locale"}
LOCATION_MAP = {n: n for n in _fields("location")} | {
    n: EXT + n for n in (
        "timezone", "privacy", "shelter_type", "capacity_maximum", "capacity_available",
        "has_heating", "has_power", "has_water", "has_internet", "has_toilets",
        "wheelchair_accessible", "pets_allowed", "women_children_only", "open_24_7", "source_locale",
    )
}  # fmt: skip
PHONE_MAP = {n: n for n in _fields("phone")} | {"is_hotline": EXT + "is_hotline"}
SCHEDULE_MAP = {n: n for n in _fields("schedule")} | {"timezone": EXT + "timezone"}
ADDRESS_MAP = {n: n for n in _fields("address")}
LANGUAGE_MAP = {n: n for n in _fields("language")}
DOCUMENT_MAP = {n: n for n in _fields("required_document")}
ACCESSIBILITY_MAP = {n: n for n in _fields("accessibility")}
EXCEPTION_MAP = {n: n for n in _fields("schedule_exception")}


def _assured(data: dict[str, Any]) -> Any:
    """The verification time: our `x_assured_at` (exact), else HSDS `assured_date` (a date:
    its midnight UTC)."""
    exact = data.get(EXT + "assured_at")
    if exact:
        return exact
    day = data.get("assured_date")
    if isinstance(day, str) and len(day) == 10:
        return day + "T00:00:00+00:00"
    return day or None


def _mapped(obj: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    return {name: obj.get(key) for name, key in mapping.items()}


def _translations(
    ctx: Context,
    report: Report,
    entity: str,
    obj: dict[str, Any],
    where: tuple[str, int | None, str],
) -> dict[str, dict[str, str]]:
    raw = obj.get(EXT + "translations")
    out: dict[str, dict[str, str]] = {}
    if not isinstance(raw, dict):
        return out
    specs = FIELDS[entity]
    for name, per_locale in raw.items():
        spec = specs.get(name)
        if spec is None or not spec.translatable or not isinstance(per_locale, dict):
            continue
        for locale, text in per_locale.items():
            if locale not in ctx.locales:
                report.error(
                    Problem(
                        where[0],
                        where[1],
                        where[2] + f".{EXT}translations.{name}",
                        name,
                        f"unknown locale {str(locale)[:12]!r}",
                    )
                )
                continue
            try:
                value = clean(ctx.session, spec, text, now=ctx.now)
            except FieldError as exc:
                report.error(
                    Problem(
                        where[0],
                        where[1],
                        where[2] + f".{EXT}translations.{name}.{locale}",
                        name,
                        str(exc),
                    )
                )
                continue
            if value:
                out.setdefault(name, {})[locale] = value
    return out


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
        return _rows_to_bundle(ctx, report, item)
    errors_before = report.error_count
    where = (item.file, item.line, item.path)
    textual = item.textual
    sid_raw = data.get("id")
    sid = _uuid_or(sid_raw, lambda: ctx.derived_id("service", str(sid_raw or data.get("name"))))
    raw = _mapped(data, SERVICE_MAP)
    raw["status"] = _status(data)
    raw["assured_date"] = _assured(data)
    payload = _clean_payload(
        ctx, report, "service", raw, names=SERVICE_MAP, where=where, textual=textual, partial=False
    )
    if payload is not None:
        _expire_status(ctx, report, payload, where)
    org_rec = None
    org = data.get("organization")
    org_id_raw = (org or {}).get("id") or data.get("organization_id")
    if isinstance(org, dict):
        owhere = _where(org, item, item.path + ".organization")
        org_id = _uuid_or(
            org.get("id"),
            lambda: ctx.derived_id("organization", str(org.get("id") or org.get("name"))),
        )
        opayload = _clean_payload(
            ctx,
            report,
            "organization",
            _mapped(org, ORG_MAP),
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
                translations=_translations(ctx, report, "organization", org, owhere),
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
        else _uuid_or(org_id_raw, lambda: ctx.derived_id("organization", str(org_id_raw)))
    )

    locations: list[Rec] = []
    children: list[Rec] = []
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    for i, sal in enumerate(data.get("service_at_locations") or []):
        spath = f"{item.path}.service_at_locations[{i}]"
        loc = sal.get("location") if isinstance(sal, dict) else None
        if not isinstance(loc, dict):
            report.error(
                Problem(
                    *_where(sal if isinstance(sal, dict) else {}, item, spath),
                    "location",
                    "names no location in the file",
                )
            )
            continue
        lwhere = _where(loc, item, spath + ".location")
        loc_ref = str(loc.get("id") or loc.get("name"))
        lid = _uuid_or(loc.get("id"), lambda: ctx.derived_id("location", loc_ref))  # noqa: B023
        links.append((lid, sid))
        for j, s in enumerate(sal.get("schedules") or []):
            rec = _child(
                ctx,
                report,
                "schedule",
                s,
                SCHEDULE_MAP,
                _where(s, item, f"{spath}.schedules[{j}]"),
                textual,
                {"service_id": sid, "location_id": lid},
            )
            if rec:
                children.append(rec)
        if lid in ctx.seen["location"]:
            continue  # the same place under several services: its record is checked once
        ctx.seen["location"].add(lid)
        raw_loc = _mapped(loc, LOCATION_MAP)
        if textual:
            for key in ("latitude", "longitude"):
                raw_loc[key] = loc.get(key)
        redacted = bool(loc.get(EXT + "redacted"))
        names = [n for n in LOCATION_MAP if not (redacted and n in REDACTED_FIELDS)]
        lpayload = _clean_payload(
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
        _check_location(report, lpayload, lwhere)
        region = loc.get(EXT + "region")
        place = loc.get(EXT + "place")
        if region or not redacted:
            lpayload["region_id"] = _place_ref(ctx, report, region, "region", lwhere)
        if place or not redacted:  # a public export hides a confidential place's city
            lpayload["place_id"] = _place_ref(ctx, report, place, "city", lwhere)
        lpayload["organization_id"] = str(org_id)
        locations.append(
            Rec(
                "location",
                lid,
                lpayload,
                *lwhere,
                translations=_translations(ctx, report, "location", loc, lwhere),
                external=(ctx.source, str(loc.get("id"))) if ctx.source and loc.get("id") else None,
            )
        )
        for j, a in enumerate(loc.get("addresses") or []):
            if isinstance(a, dict) and not a.get("address_1") and loc.get(EXT + "redacted"):
                report.warn(
                    Problem(
                        *lwhere,
                        "addresses",
                        "this place comes from a public export without its street address: its address is left out",
                    )
                )
                continue
            rec = _child(
                ctx,
                report,
                "address",
                a,
                ADDRESS_MAP,
                _where(a, item, f"{lwhere[2]}.addresses[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, p in enumerate([] if redacted else loc.get("phones") or []):
            rec = _child(
                ctx,
                report,
                "phone",
                p,
                PHONE_MAP,
                _where(p, item, f"{lwhere[2]}.phones[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, s in enumerate(loc.get("schedules") or []):
            rec = _child(
                ctx,
                report,
                "schedule",
                s,
                SCHEDULE_MAP,
                _where(s, item, f"{lwhere[2]}.schedules[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, a in enumerate(loc.get("accessibility") or []):
            rec = _child(
                ctx,
                report,
                "accessibility",
                a,
                ACCESSIBILITY_MAP,
                _where(a, item, f"{lwhere[2]}.accessibility[{j}]"),
                textual,
                {"location_id": lid},
            )
            if rec:
                children.append(rec)
        for j, e in enumerate(_list(loc.get(EXT + "schedule_exceptions"))):
            rec = _child(
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
        rec = _child(
            ctx,
            report,
            "phone",
            p,
            PHONE_MAP,
            _where(p, item, f"{item.path}.phones[{j}]"),
            textual,
            {"service_id": sid},
        )
        if rec:
            children.append(rec)
    for j, s in enumerate(data.get("schedules") or []):
        rec = _child(
            ctx,
            report,
            "schedule",
            s,
            SCHEDULE_MAP,
            _where(s, item, f"{item.path}.schedules[{j}]"),
            textual,
            {"service_id": sid},
        )
        if rec:
            children.append(rec)
    for key, entity, mapping in (
        ("languages", "language", LANGUAGE_MAP),
        ("required_documents", "required_document", DOCUMENT_MAP),
    ):
        for j, obj in enumerate(data.get(key) or []):
            lwhere = _where(obj if isinstance(obj, dict) else {}, item, f"{item.path}.{key}[{j}]")
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
                        f"language {str(obj.get('name') or obj.get('code'))[:40]!r} has no language code (uk, en, pt-BR ...): skipped",
                    )
                )
                continue
            rec = _child(ctx, report, entity, obj, mapping, lwhere, textual, {"service_id": sid})
            if rec:
                children.append(rec)
    for j, e in enumerate(_list(data.get(EXT + "schedule_exceptions"))):
        rec = _child(
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
    categories = _categories(ctx, report, item, data.get("attributes") or [])
    if payload is None or report.error_count > errors_before:
        return None
    children = _unique(ctx, children)
    payload["organization_id"] = str(org_id)
    svc = Rec(
        "service",
        sid,
        payload,
        *where,
        translations=_translations(ctx, report, "service", data, where),
        external=(ctx.source, str(sid_raw)) if ctx.source and sid_raw else None,
    )
    return Bundle(svc, org_rec, locations, children, categories, new_links=links)


_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _list(value: Any) -> list[Any]:
    """A nested list of an extension field (a JSON cell of the tabular form is decoded already)."""
    return value if isinstance(value, list) else []


def _expire_status(
    ctx: Context, report: Report, payload: dict[str, Any], where: tuple[str, int | None, str]
) -> None:
    """A temporary status whose `until` has passed is over: the service is active again."""
    until = payload.get("status_until")
    if until and dt.datetime.fromisoformat(until) <= ctx.now:
        report.warn(
            Problem(
                *where,
                "status_until",
                f"{until} has passed: the temporary status ended, imported as active",
            )
        )
        payload["status_until"] = None
        payload["status_reason"] = None
        payload["status_reason_code"] = None
        if "status" in payload:
            payload["status"] = m.ServiceStatus.active.value


def _unique(ctx: Context, children: list[Rec]) -> list[Rec]:
    """HSDS nests the same record in several places (a schedule under the service and again
    under its location): one id is one record, the first occurrence counts."""
    out = []
    for child in children:
        seen = ctx.seen["child-" + child.entity]
        if child.id not in seen:
            seen.add(child.id)
            out.append(child)
    return out


def _check_location(
    report: Report, payload: dict[str, Any], where: tuple[str, int | None, str]
) -> None:
    avail, total = payload.get("capacity_available"), payload.get("capacity_maximum")
    if avail is not None and total is not None and avail > total:
        report.error(Problem(*where, "capacity_available", "free places cannot exceed the total"))
    if (payload.get("latitude") is None) != (payload.get("longitude") is None):
        report.error(
            Problem(
                *where,
                "longitude" if payload.get("longitude") is None else "latitude",
                "latitude and longitude go together",
            )
        )


def _place_ref(
    ctx: Context, report: Report, ref: Any, kind: str, where: tuple[str, int | None, str]
) -> str | None:
    if ref in (None, "", {}):
        return None
    found = ctx.places.find(ref, kind)
    if found is None:
        label = ref.get("name") if isinstance(ref, dict) else ref
        report.warn(
            Problem(
                where[0],
                None,
                "",
                kind,
                f"{str(label)[:80]!r} is not in the directory's gazetteer: left empty",
            )
        )
        return None
    return str(found)


def _child(
    ctx: Context,
    report: Report,
    entity: str,
    obj: Any,
    mapping: dict[str, str],
    where: tuple[str, int | None, str],
    textual: bool,
    parent: dict[str, uuid.UUID],
    names: Iterable[str] | None = None,
) -> Rec | None:
    if not isinstance(obj, dict):
        report.error(Problem(*where, "", "must be an object"))
        return None
    raw = _mapped(obj, mapping)
    if entity == "phone" and raw.get("extension") is None and obj.get(EXT + "extension"):
        raw["extension"] = obj.get(EXT + "extension")
    if entity == "phone" and raw.get("is_hotline") is None:
        raw["is_hotline"] = False
    payload = _clean_payload(
        ctx,
        report,
        entity,
        raw,
        names=names or mapping,
        where=where,
        textual=textual,
        partial=False,
    )
    if payload is None:
        return None
    cid = _uuid_or(
        obj.get("id"),
        lambda: ctx.derived_id(
            entity, repr(sorted(parent.items())) + repr(sorted(payload.items()))
        ),
    )
    for key, value in parent.items():
        payload[key] = str(value)
    return Rec(entity, cid, payload, *where, parent=dict(parent))


def _categories(ctx: Context, report: Report, item: Item, attributes: list[Any]) -> list[str]:
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
        else:
            where = _where(a, item, f"{item.path}.attributes[{i}]")
            report.warn(
                Problem(
                    *where,
                    "taxonomy_term",
                    f"category {str(code)[:60]!r} is not in the directory's taxonomy: skipped",
                )
            )
    return sorted(set(codes))


# --- simple CSV rows → records ----------------------------------------------------------------


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


def _rows_to_bundle(ctx: Context, report: Report, item: Item) -> Bundle | None:
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
    org_id = _uuid_or(first.get("organization_id"), lambda: ctx.derived_id("organization", org_key))
    where = (name, first_line, f"line {first_line}")
    opayload = _clean_payload(
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
    sid = _uuid_or(first.get("service_id"), lambda: ctx.derived_id("service", svc_key))
    raw = {
        "name": first.get("service_name"),
        "description": first.get("service_description"),
        "status": first.get("status") or ("active" if "status" in header else None),
        "status_until": first.get("status_until"),
        "email": first.get("email"),
        "url": first.get("website"),
        "free_of_charge": first.get("free_of_charge"),
        "assured_date": _assured({"assured_date": first.get("last_verified") or None}),
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
    payload = _clean_payload(
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
        _expire_status(ctx, report, payload, where)
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
                        f"unknown category code {code[:60]!r} (codes look like: shelter, shelter.air-raid, food, heat-power.warming)",
                    )
                )
        categories = sorted(set(categories))
    children: list[Rec] = []
    for number in _split(first.get("phone"), ";"):
        rec = _child(
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
        rec = _child(
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
                rec = _child(
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
        lid = _uuid_or(
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
        lpayload = _clean_payload(
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
        _check_location(report, lpayload, lwhere)
        if "region" in header and (row.get("region") or not redacted):
            lpayload["region_id"] = _place_ref(ctx, report, row.get("region"), "region", lwhere)
        if "city" in header and (row.get("city") or not redacted):
            lpayload["place_id"] = _place_ref(ctx, report, row.get("city"), "city", lwhere)
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
                rec = _child(
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
            rec = _child(
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


# --- comparison with the directory ------------------------------------------------------------

MODELS: dict[str, Any] = {
    "organization": m.Organization, "service": m.Service, "location": m.Location,
    "address": m.Address, "phone": m.Phone, "schedule": m.Schedule,
    "schedule_exception": m.ScheduleException, "language": m.Language,
    "required_document": m.RequiredDocument, "accessibility": m.Accessibility,
}  # fmt: skip
PARENT_KEYS = {
    "address": ("location_id",), "phone": ("service_id", "location_id"), "schedule": ("service_id", "location_id"),
    "schedule_exception": ("service_id", "location_id"), "language": ("service_id", "location_id"),
    "required_document": ("service_id",), "accessibility": ("location_id",),
}  # fmt: skip


def _primary(entity: str, values: dict[str, Any]) -> tuple[str, str] | None:
    for key in PARENT_KEYS[entity]:
        if values.get(key):
            return key, str(values[key])
    return None


def _content(
    entity: str, values: dict[str, Any], keys: Iterable[str], *, parents: bool = True
) -> tuple[Any, ...]:
    own = tuple(values.get(n) for n in keys)
    if not parents:
        return own
    return own + tuple(str(values[k]) if values.get(k) else None for k in PARENT_KEYS[entity])


def _dumped(row: Any, names: Iterable[str]) -> dict[str, Any]:
    return {n: dump(row[n]) for n in names}


def _later(value: str | None, than: str | None) -> bool:
    if value is None:
        return False
    return than is None or dt.datetime.fromisoformat(value) > dt.datetime.fromisoformat(than)


class Planner:
    """Compares batches of bundles with the directory and counts what would change."""

    def __init__(self, ctx: Context, report: Report) -> None:
        self.ctx = ctx
        self.report = report

    def _existing(self, entity: str, recs: list[Rec]) -> dict[uuid.UUID, Any]:
        """Current rows of these records (by id, else by source + external id), keyed by rec id."""
        session = self.ctx.session
        table = MODELS[entity].__table__
        ids = [r.id for r in recs]
        found: dict[uuid.UUID, Any] = {}
        if ids:
            for row in session.execute(select(table).where(table.c.id.in_(ids))):
                found[row.id] = row._mapping
        externals = [r.external for r in recs if r.id not in found and r.external]
        if externals and "external_id" in table.c:
            rows = session.execute(
                select(table).where(
                    tuple_(table.c.external_source, table.c.external_id).in_(externals)
                )
            )
            by_ext = {(r.external_source, r.external_id): r._mapping for r in rows}
            for r in recs:
                if r.id not in found and r.external in by_ext:
                    found[r.id] = by_ext[r.external]
        if entity == "organization":
            names = {
                r.payload["__match_name__"].casefold(): r
                for r in recs
                if r.id not in found and r.payload.get("__match_name__")
            }
            if names:
                rows = session.execute(
                    select(table).where(
                        func.lower(table.c.name).in_(list(names)), table.c.archived_at.is_(None)
                    )
                )
                for row in rows:
                    rec = names.get(row.name.casefold())
                    if rec is not None and rec.id not in found:
                        found[rec.id] = row._mapping
        return found

    def _translations(
        self, entity: str, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, dict[str, str]]]:
        t = m.Translation.__table__
        out: dict[uuid.UUID, dict[str, dict[str, str]]] = defaultdict(dict)
        if ids:
            for row in self.ctx.session.execute(
                select(t.c.entity_id, t.c.field, t.c.locale, t.c.value).where(
                    t.c.entity_type == entity, t.c.entity_id.in_(ids)
                )
            ):
                out[row.entity_id].setdefault(row.field, {})[row.locale] = row.value
        return out

    def compare(self, bundles: list[Bundle]) -> None:
        by_entity: dict[str, list[Rec]] = defaultdict(list)
        for b in bundles:
            if b.organization is not None:
                by_entity["organization"].append(b.organization)
            by_entity["service"].append(b.service)
            by_entity["location"].extend(b.locations)
        resolved: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
        for entity in ("organization", "service", "location"):
            recs = list({r.id: r for r in by_entity[entity]}.values())
            existing = self._existing(entity, recs)
            texts = self._translations(entity, [row["id"] for row in existing.values()])
            for rec in by_entity[entity]:
                row = existing.get(rec.id)
                if row is not None:
                    resolved[(entity, rec.id)] = row["id"]
                self._compare(rec, row, texts.get(row["id"], {}) if row is not None else {})
        # references now point at the records they matched
        for b in bundles:
            for rec in [b.service, *b.locations]:
                oid = rec.payload.get("organization_id")
                if oid:
                    rec.payload["organization_id"] = str(
                        resolved.get(("organization", uuid.UUID(oid)), uuid.UUID(oid))
                    )
            sid = resolved.get(("service", b.service.id), b.service.id)
            loc_ids = {rec.id: resolved.get(("location", rec.id), rec.id) for rec in b.locations}
            b.new_links = [
                (resolved.get(("location", lid), lid), resolved.get(("service", s), s))
                for lid, s in b.new_links
            ]
            for child in b.children:
                if child.payload.get("service_id"):
                    child.payload["service_id"] = str(sid)
                if child.payload.get("location_id"):
                    lid = uuid.UUID(child.payload["location_id"])
                    child.payload["location_id"] = str(
                        loc_ids.get(lid, resolved.get(("location", lid), lid))
                    )
        self._compare_categories(bundles)
        self._compare_children(bundles)
        self._compare_links(bundles)

    def _compare(self, rec: Rec, row: Any, texts: dict[str, dict[str, str]]) -> None:
        counts = self.report.counts[rec.entity]
        if rec.id in self.ctx.seen["counted-" + rec.entity]:
            rec.state = "duplicate"
            if row is not None:
                rec.existing_id = row["id"]
            return
        self.ctx.seen["counted-" + rec.entity].add(rec.id)
        if row is None:
            rec.state = "new"
            counts["new"] += 1
            return
        rec.existing_id = row["id"]
        rec.base_version = row["version"]
        names = [
            n
            for n in rec.payload
            if not n.startswith("__")
            and n in FIELDS[rec.entity]
            and n not in ("service_ids", "categories")
        ]
        current = _dumped(row, names)
        rec.changed_fields = [n for n in names if current[n] != rec.payload[n]]
        if "assured_date" in rec.changed_fields and not _later(
            rec.payload["assured_date"], current["assured_date"]
        ):
            rec.changed_fields.remove("assured_date")  # a file never moves a verification back
            rec.payload.pop("assured_date")
        if row["archived_at"] is not None:
            rec.changed_fields.append("archived_at")
        source = dump(row["source_locale"]) if "source_locale" in row else "en"
        for name, per_locale in rec.translations.items():
            for locale, value in per_locale.items():
                have = dump(row[name]) if locale == source else texts.get(name, {}).get(locale)
                if have != value:
                    rec.changed_fields.append(f"{name}@{locale}")
        rec.state = "changed" if rec.changed_fields else "unchanged"
        counts[rec.state] += 1
        if rec.state == "changed":
            self._note(rec)

    def _note(self, rec: Rec, fields: list[str] | None = None) -> None:
        if len(self.report.changed) < 200:
            self.report.changed.append(
                {
                    "entity": rec.entity,
                    "id": str(rec.existing_id or rec.id),
                    "file": rec.file,
                    "line": rec.line,
                    "path": rec.path,
                    "fields": fields or rec.changed_fields,
                }
            )

    def _compare_categories(self, bundles: list[Bundle]) -> None:
        ids = [
            b.service.existing_id
            for b in bundles
            if b.service.existing_id and b.categories is not None
        ]
        current: dict[uuid.UUID, list[str]] = defaultdict(list)
        if ids:
            attr, term = m.Attribute.__table__, m.TaxonomyTerm.__table__
            for link_id, code in self.ctx.session.execute(
                select(attr.c.link_id, term.c.code)
                .join(term, term.c.id == attr.c.taxonomy_term_id)
                .where(
                    attr.c.link_entity == "service",
                    attr.c.link_id.in_(ids),
                    attr.c.archived_at.is_(None),
                )
            ):
                current[link_id].append(code)
        for b in bundles:
            rec = b.service
            if b.categories is None or rec.state == "duplicate":
                continue
            rec.payload["categories"] = b.categories
            if rec.existing_id and sorted(current.get(rec.existing_id, [])) != b.categories:
                rec.changed_fields.append("categories")
                if rec.state == "unchanged":
                    rec.state = "changed"
                    self.report.counts["service"]["unchanged"] -= 1
                    self.report.counts["service"]["changed"] += 1
                    self._note(rec)

    def _compare_children(self, bundles: list[Bundle]) -> None:
        session = self.ctx.session
        sids = {b.service.existing_id for b in bundles if b.service.existing_id}
        lids = {loc.existing_id for b in bundles for loc in b.locations if loc.existing_id}
        existing: dict[str, dict[tuple[str, str], list[Any]]] = {
            e: defaultdict(list) for e in PARENT_KEYS
        }
        for entity in PARENT_KEYS:
            t = MODELS[entity].__table__
            conds = []
            if "service_id" in PARENT_KEYS[entity] and sids:
                conds.append(t.c.service_id.in_(list(sids)))
            if "location_id" in PARENT_KEYS[entity] and lids:
                conds.append(t.c.location_id.in_(list(lids)))
            if not conds:
                continue
            from sqlalchemy import or_

            for row in session.execute(select(t).where(or_(*conds), t.c.archived_at.is_(None))):
                values = _dumped(row._mapping, [*_fields(entity), *PARENT_KEYS[entity]])
                key = _primary(entity, values)
                if key is not None:
                    existing[entity][key].append((row._mapping, values))
        counts = self.report.counts
        for b in bundles:
            covered: set[tuple[str, tuple[str, str]]] = set()
            matched: set[uuid.UUID] = set()
            for child in b.children:
                key = _primary(child.entity, child.payload)
                if key is None:
                    continue
                covered.add((child.entity, key))
                keys = [n for n in _fields(child.entity) if n in child.payload]
                rows = [
                    (row, _content(child.entity, values, keys))
                    for row, values in existing[child.entity].get(key, [])
                ]
                content = _content(child.entity, child.payload, keys)
                same_id = next(
                    (r for r in rows if r[0]["id"] == child.id and r[0]["id"] not in matched), None
                )
                same_content = next(
                    (r for r in rows if r[1] == content and r[0]["id"] not in matched), None
                )
                hit = (
                    same_id
                    if same_id is not None and same_id[1] == content
                    else same_content or same_id
                )
                if hit is None and b.partial and key[0] == "service_id":
                    # a spreadsheet lists the place's own phones and hours with the service's
                    own = _content(child.entity, child.payload, keys, parents=False)
                    place_ids = {str(lid) for lid, _ in b.new_links} | {
                        str(loc.existing_id or loc.id) for loc in b.locations
                    }
                    if any(
                        _content(child.entity, values, keys, parents=False) == own
                        for lid in place_ids
                        for _, values in existing[child.entity].get(("location_id", lid), [])
                    ):
                        child.state = "unchanged"
                        counts[child.entity]["unchanged"] += 1
                        continue
                if hit is None:
                    child.state = "new"
                    counts[child.entity]["new"] += 1
                    continue
                matched.add(hit[0]["id"])
                child.existing_id = hit[0]["id"]
                child.base_version = hit[0]["version"]
                if hit[1] == content:
                    child.state = "unchanged"
                else:
                    child.state = "changed"
                    child.changed_fields = [
                        n for n in _fields(child.entity) if dump(hit[0][n]) != child.payload.get(n)
                    ]
                    self._note(child)
                counts[child.entity][child.state] += 1
            # the file states all children of what it covers: the others are removed
            for entity, key in covered:
                for row, _ in existing[entity].get(key, []):
                    if row["id"] not in matched:
                        b.archive.append((entity, row["id"]))
                        counts[entity].setdefault("removed", 0)
                        counts[entity]["removed"] += 1
                        matched.add(row["id"])

    def _compare_links(self, bundles: list[Bundle]) -> None:
        links = {(lid, sid) for b in bundles for lid, sid in b.new_links}
        if not links:
            return
        t = m.ServiceAtLocation.__table__
        have = set(
            self.ctx.session.execute(
                select(t.c.location_id, t.c.service_id).where(
                    t.c.service_id.in_(list({s for _, s in links}))
                )
            )
        )
        for b in bundles:
            b.new_links = [link for link in b.new_links if link not in have]


# --- writing through the moderation write path ------------------------------------------------


class ApplyFailed(Exception):
    """A write was refused by the write path: the whole import is rolled back."""


def held_by_guard(
    sensitive: bool,
    entity_type: str,
    kind: str,
    changes: dict[str, Any] | None,
    created: set[uuid.UUID],
) -> bool:
    """Publishing an import, does this change wait for a second moderator? Only when the fraud
    guard marks it (`moderation.guard`) and it touches what existed before the import: a change
    to an existing record, or a new phone or address of an existing listing. New listings of
    the file (a new service of an existing organisation included) are the publishing admin's."""
    from directory.moderation.fields import SENSITIVE_CREATE

    if not sensitive:
        return False
    if kind != "create":
        return True
    if entity_type not in SENSITIVE_CREATE:
        return False
    parents = [
        v
        for k, v in (changes or {}).items()
        if k in ("organization_id", "service_id", "location_id") and v
    ]
    return any(uuid.UUID(str(v)) not in created for v in parents)


class Writer:
    """Turns compared bundles into change requests (published at once with `publish`).

    Without `publish`, the new records of a listing (organisation, service, places and their
    children) are proposed as ONE group of change requests (`moderation.propose(group_id=)`):
    they may refer to each other while pending, and a moderator approves or rejects the new
    listing as a whole. A bundle whose new records refer to records of an earlier bundle's group
    (a second service of the same new organisation) joins that group."""

    def __init__(
        self, session: Session, *, actor: Any, publish: bool, report: Report, comment: str
    ) -> None:
        self.session = session
        self.actor = actor
        self.publish = publish
        self.report = report
        self.comment = comment
        self.touched: set[uuid.UUID] = set()
        self.created_locations: set[uuid.UUID] = set()
        self.group: uuid.UUID | None = None  # the group of the bundle being written
        self._group_of: dict[uuid.UUID, uuid.UUID] = {}  # pending new record id → its group
        self.created: set[uuid.UUID] = set()  # records this import creates

    def _propose(
        self,
        rec: Rec,
        kind: str,
        *,
        entity_id: uuid.UUID,
        changes: dict[str, Any] | None = None,
        translations: dict[str, dict[str, str]] | None = None,
        base_version: int | None = None,
    ) -> None:
        from directory.errors import DomainError, ValidationFailed
        from directory.moderation import service as moderation

        group = self.group if kind == "create" else None
        try:
            cr = moderation.propose(
                self.session,
                actor=None,
                entity_type=rec.entity,
                kind=kind,
                entity_id=entity_id,
                changes=changes,
                translations=translations or None,
                base_version=base_version,
                comment=self.comment,
                source="import",
                group_id=group,
            )
            if group is not None:
                self._group_of[entity_id] = group
            if kind == "create":
                self.created.add(entity_id)
            self.report.change_requests += 1
            if self.publish and not held_by_guard(
                cr.sensitive, rec.entity, kind, changes, self.created
            ):
                moderation.approve(self.session, change_id=cr.id, reviewer=self.actor)
            else:
                if self.publish:
                    # Fraud guard: the publishing admin is this change's author; another
                    # moderator approves it (`moderation.guard`).
                    cr.author_id = self.actor.id
                    self.report.held += 1
                self.report.pending += 1
        except ValidationFailed as exc:
            for e in exc.errors:
                self.report.error(
                    Problem(rec.file, rec.line, rec.path, e.get("path", ""), e.get("message", ""))
                )
            raise ApplyFailed(str(exc)) from None
        except DomainError as exc:
            self.report.error(Problem(rec.file, rec.line, rec.path, "", exc.detail))
            raise ApplyFailed(exc.detail) from None

    def _write(self, rec: Rec, extra: dict[str, Any] | None = None) -> None:
        if rec.state == "new":
            self._propose(
                rec,
                "create",
                entity_id=rec.id,
                changes={**rec.fields(), **(extra or {})},
                translations=rec.translations,
            )
        elif rec.state == "changed" and rec.existing_id is not None:
            if "archived_at" in rec.changed_fields:
                self._propose(rec, "restore", entity_id=rec.existing_id)
            changes, texts = rec.changes()
            if changes or texts:
                self._propose(
                    rec, "update", entity_id=rec.existing_id, changes=changes, translations=texts
                )

    def _choose_group(self, b: Bundle) -> uuid.UUID | None:
        """Without publish: the group for this bundle's new records (None when it has none)."""
        new = [
            r
            for r in (b.organization, b.service, *b.locations, *b.children)
            if r is not None and r.state == "new"
        ]
        if self.publish or not new:
            return None
        refs = {
            uuid.UUID(v)
            for r in new
            for k, v in r.payload.items()
            if k in ("organization_id", "service_id", "location_id") and isinstance(v, str)
        }
        refs |= {s for _, s in b.new_links}
        joined = next((self._group_of[i] for i in refs if i in self._group_of), None)
        if joined is not None:
            return joined
        return (
            uuid.uuid4() if len(new) > 1 else None
        )  # one new record (a phone) is a change of its own

    def apply(self, b: Bundle) -> None:
        self.group = self._choose_group(b)
        try:
            self._apply(b)
        finally:
            self.group = None

    def _apply(self, b: Bundle) -> None:
        if b.organization is not None and b.organization.state in ("new", "changed"):
            self._write(b.organization)
        if b.service.state in ("new", "changed"):
            self._write(b.service)
        sid = b.service.existing_id or b.service.id
        self.touched.add(sid)
        for loc in b.locations:
            if loc.state == "new":
                services = sorted({str(s) for lid, s in b.new_links if lid == loc.id})
                self._write(loc, {"service_ids": services})
                self.created_locations.add(loc.id)
            elif loc.state == "changed":
                self._write(loc)
        for lid, s in b.new_links:
            if lid not in self.created_locations:
                self.report.warn(
                    Problem(
                        b.service.file,
                        b.service.line,
                        b.service.path,
                        "service_at_locations",
                        f"service {s} was not linked to the existing place {lid}: link it in the manage app",
                    )
                )
        for child in b.children:
            if child.state in ("new", "changed"):
                self._write(child)
        for entity, cid in b.archive:
            rec = Rec(entity, cid, {}, b.service.file, b.service.line, b.service.path)
            self._propose(rec, "archive", entity_id=cid)


# --- the whole import -------------------------------------------------------------------------

READERS: dict[str, Callable[..., Iterator[Item]]] = {
    "hsds-json": read_hsds_json,
    "hsds-csv": read_hsds_csv,
    "csv": read_simple_csv,
}


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_pass(
    session: Session,
    path: Path,
    *,
    fmt: str,
    source: str | None,
    report: Report,
    now: dt.datetime,
    writer: Writer | None,
    progress: Callable[[int], None] | None,
    limit: int | None,
    bulk: BulkImport | None = None,
    stage: list[list[Bundle]] | None = None,
) -> None:
    ctx = Context(session, source=source, fmt=fmt, now=now)
    planner = Planner(ctx, report)
    kwargs = {"limit": limit} if limit else {}
    for items in _batches(READERS[fmt](path, **kwargs), BATCH):
        bundles = []
        for item in items:
            report.services_read += 1
            bundle = item_to_bundle(ctx, report, item)
            if bundle is not None:
                bundles.append(bundle)
        if bundles:
            planner.compare(bundles)
        if stage is not None and bundles and report.ok:
            stage.append(bundles)
        if bulk is not None and report.ok:
            bulk.apply(bundles)  # validated and written set by set; ApplyFailed on refusal
        if writer is not None and report.ok:
            from directory.moderation.service import deferred_reindex

            # The write path collects the services each change touches (also those of an
            # organisation or place outside this file) and they are reindexed once per batch.
            with deferred_reindex(session) as touched:
                for bundle in bundles:
                    if bundle.service.state != "duplicate":
                        writer.apply(bundle)
            writer.touched |= touched
            if writer.touched:
                from directory.search.index import reindex_services

                session.flush()
                reindex_services(session, writer.touched)
                writer.touched.clear()
        if progress is not None:
            progress(len(items))


def run_import(
    session: Session,
    path: Path,
    *,
    fmt: str,
    source: str | None = None,
    apply: bool = False,
    publish: bool = False,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    display_name: str | None = None,
    per_record: bool = False,
) -> Report:
    """Validate `path` and report; with `apply`, write everything or nothing (the caller's
    transaction is left clean: a failed apply rolls back to a savepoint taken here).

    With `publish` the file is read once: each batch is checked, then written set-based by
    `moderation.bulk.BulkPublisher` while the report is clean; the first error stops the
    writing (the rest is still checked, for the report) and everything is rolled back.
    `per_record=True` publishes through propose/approve one record at a time instead (the
    path of imports without `publish`; kept for comparison)."""
    from directory.accounts.models import Role
    from directory.errors import Forbidden

    if fmt not in READERS:
        raise ValueError(f"unknown import format {fmt!r}")
    now = now or utcnow()
    name = display_name or path.name
    if publish and (actor is None or getattr(actor, "role", None) != Role.admin or actor.disabled):
        raise Forbidden("Only an admin may publish an import directly")
    comment = (
        f"import of {name}"
        + (f" from {source}" if source else "")
        + (f" by {actor.email}" if getattr(actor, "email", None) else "")
    )
    if apply and publish and not per_record:
        return _publish_bulk(
            session,
            path,
            fmt=fmt,
            source=source,
            now=now,
            actor=actor,
            progress=progress,
            limit=limit,
            name=name,
            comment=comment,
        )
    report = Report(file=name, format=fmt, source=source)
    try:
        _run_pass(
            session,
            path,
            fmt=fmt,
            source=source,
            report=report,
            now=now,
            writer=None,
            progress=progress,
            limit=limit,
        )
    except ImportRefused as exc:
        report.refused = exc.reason
        if exc.line:
            report.error(Problem(exc.file or name, exc.line, "", "", exc.reason))
        return report
    for p in report.errors:
        p.file = name if p.file == path.name else p.file
    if not apply or not report.ok:
        return report
    written = Report(file=name, format=fmt, source=source)
    writer = Writer(session, actor=actor, publish=publish, report=written, comment=comment)
    savepoint = session.begin_nested()
    try:
        _run_pass(
            session,
            path,
            fmt=fmt,
            source=source,
            report=written,
            now=now,
            writer=writer,
            progress=progress,
            limit=limit,
        )
        if not written.ok:
            raise ApplyFailed("refused by the write path")
    except (ApplyFailed, ImportRefused) as exc:
        savepoint.rollback()
        report.errors.extend(written.errors)
        report.error_count += written.error_count or 1
        if isinstance(exc, ImportRefused):
            report.refused = exc.reason
        return report
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    written.applied = True
    written.published = publish
    written.warnings = report.warnings
    return written


def _publish_bulk(
    session: Session,
    path: Path,
    *,
    fmt: str,
    source: str | None,
    now: dt.datetime,
    actor: Any,
    progress: Callable[[int], None] | None,
    limit: int | None,
    name: str,
    comment: str,
) -> Report:
    """`--apply --publish` in one pass over the file, all or nothing in a savepoint."""
    from directory.exchange.bulk_import import BulkImport

    report = Report(file=name, format=fmt, source=source)
    savepoint = session.begin_nested()
    try:
        bulk = BulkImport(session, actor=actor, report=report, comment=comment, now=now)
        _run_pass(
            session,
            path,
            fmt=fmt,
            source=source,
            report=report,
            now=now,
            writer=None,
            progress=progress,
            limit=limit,
            bulk=bulk,
        )
        if report.ok:
            bulk.finish()
    except ImportRefused as exc:
        savepoint.rollback()
        report.refused = exc.reason
        if exc.line:
            report.error(Problem(exc.file or name, exc.line, "", "", exc.reason))
        return report
    except ApplyFailed as exc:
        savepoint.rollback()  # the refusal is in the report
        if report.ok:
            report.error(Problem(name, None, "", "", str(exc) or "refused by the write path"))
    except BaseException:
        savepoint.rollback()
        raise
    for p in report.errors:
        p.file = name if p.file == path.name else p.file
    if not report.ok:
        if savepoint.is_active:
            savepoint.rollback()
        return report
    savepoint.commit()
    report.applied = True
    report.published = True
    report.change_requests = bulk.change_requests
    return report


#: How long the publish phase of `publish_import` announces it will hold the write lock:
#: a floor plus a rate per service, from the measured 10,000-service import (docs/security.md).
PUBLISH_SECONDS_FLOOR = 5.0
PUBLISH_SECONDS_PER_SERVICE = 0.002


def publish_import(
    factory: sessionmaker[Session],
    path: Path,
    *,
    fmt: str,
    actor_id: uuid.UUID,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    display_name: str | None = None,
) -> Report:
    """`import --apply --publish` that holds the database for writing only while it publishes.

    1. Check and stage, in a read-only transaction (on SQLite a plain BEGIN, so web and API
       writes go on meanwhile): every record is read, validated and compared with the directory;
       the compared batches are kept. Any error: the report, nothing written.
    2. Publish, in ONE write transaction: the staged batches go through the set-based write path
       (`moderation.bulk`, which checks each update's base version, so a record someone changed
       since the check refuses the whole import), the touched services are reindexed, commit.
       All or nothing: any failure rolls the whole publish back. Meanwhile the import is
       announced (`directory.writelock`), so that a writer that times out is told why.
    """
    from directory.accounts.models import Account, Role
    from directory.errors import Forbidden
    from directory.exchange.bulk_import import BulkImport
    from directory.writelock import holding

    if fmt not in READERS:
        raise ValueError(f"unknown import format {fmt!r}")
    now = now or utcnow()
    name = display_name or path.name
    report = Report(file=name, format=fmt, source=source)
    staged: list[list[Bundle]] = []
    read_only = sqlite_read_only.set(True)
    try:
        with session_scope(factory) as session:
            if session.get_bind().dialect.name == "postgresql":
                # One snapshot for the whole check (SQLite's read transaction is one already).
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            actor = session.get(Account, actor_id)
            if actor is None or actor.role != Role.admin or actor.disabled:
                raise Forbidden("Only an admin may publish an import directly")
            comment = (
                f"import of {name}" + (f" from {source}" if source else "") + f" by {actor.email}"
            )
            try:
                _run_pass(
                    session,
                    path,
                    fmt=fmt,
                    source=source,
                    report=report,
                    now=now,
                    writer=None,
                    progress=progress,
                    limit=limit,
                    stage=staged,
                )
            except ImportRefused as exc:
                report.refused = exc.reason
                if exc.line:
                    report.error(Problem(exc.file or name, exc.line, "", "", exc.reason))
    finally:
        sqlite_read_only.reset(read_only)
    for p in report.errors:
        p.file = name if p.file == path.name else p.file
    if not report.ok:
        return report
    services = sum(len(batch) for batch in staged)
    seconds = PUBLISH_SECONDS_FLOOR + services * PUBLISH_SECONDS_PER_SERVICE
    engine = factory.kw["bind"]
    with holding(engine, what="import", seconds=seconds):
        session = factory()
        try:
            approver = session.get(Account, actor_id)
            # Kept referenced: the write path's rules look these up with session.get.
            keep = (list(session.scalars(select(m.Locale))), list(session.scalars(select(m.Place))))
            bulk = BulkImport(session, actor=approver, report=report, comment=comment, now=now)
            for batch in staged:
                bulk.apply(batch)  # ApplyFailed (errors in the report) on any refusal
            bulk.finish()
            session.commit()
            del keep
        except ApplyFailed as exc:
            session.rollback()
            if report.ok:
                report.error(Problem(name, None, "", "", str(exc) or "refused by the write path"))
            return report
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    report.applied = True
    report.published = True
    report.change_requests = bulk.change_requests
    return report
