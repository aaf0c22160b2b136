"""What may be changed through moderation, per record type: each field's type, bounds and checks,
which fields are translatable, and which are sensitive (the fraud guard).

Values in a change request's payload are JSON (strings for decimals, dates, times and ids);
`clean` turns input into that form (or raises FieldError, with a code; `path` is the caller's),
`load` turns it into model values and `dump` turns a model value back into JSON for diffs and the
audit log.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import FieldError
from directory.listings import models as m
from directory.textinput import TextInputError, clean_line, clean_text, clean_url


@dataclass(frozen=True)
class F:
    kind: str  # str text int bool decimal uuid date time datetime enum
    max_length: int = 300
    required: bool = False  # on create; and may never be set to null
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    ref: type[Any] | None = None
    check: str = ""  # url email phone locale timezone future country byday
    translatable: bool = False
    nullable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _enum(cls: Any, **kw: Any) -> F:
    return F("enum", choices=tuple(e.value for e in cls), **kw)


NAME = F("str", required=True, translatable=True, nullable=False)
LINE = F("str", translatable=True)
TEXT = F("text", max_length=5000, translatable=True)
URL = F("str", max_length=500, check="url")
EMAIL = F("str", max_length=254, check="email")
BOOL = F("bool")
LOCALE = F("str", max_length=12, check="locale", nullable=False)
TZ = F("str", max_length=64, check="timezone", nullable=False)
COUNT = F("int", minimum=0, maximum=1_000_000)

FIELDS: dict[str, dict[str, F]] = {
    "organization": {
        "name": NAME,
        "alternate_name": LINE,
        "description": F("text", max_length=5000, translatable=True, nullable=False),
        "email": EMAIL,
        "website": URL,
        "legal_status": F("str", max_length=200),
        "source_locale": LOCALE,
    },
    "service": {
        "organization_id": F("uuid", ref=m.Organization, required=True, nullable=False),
        "name": NAME,
        "alternate_name": LINE,
        "description": F("text", max_length=5000, translatable=True, nullable=False),
        "url": URL,
        "email": EMAIL,
        "status": _enum(m.ServiceStatus, nullable=False),
        "status_reason": F("text", max_length=2000, translatable=True),
        "status_reason_code": _enum(m.ClosureReason),
        "status_until": F("datetime", check="future"),
        "alternative_service_id": F("uuid", ref=m.Service),
        "interpretation_services": TEXT,
        "application_process": TEXT,
        "fees_description": TEXT,
        "eligibility_description": TEXT,
        "minimum_age": F("int", minimum=0, maximum=130),
        "maximum_age": F("int", minimum=0, maximum=130),
        "alert": TEXT,
        "open_during_alert": BOOL,
        "free_of_charge": BOOL,
        "audience": F("str", max_length=300, nullable=False),
        "source_locale": LOCALE,
        # Verification (HSDS assured_date): set by a moderator's approval; a file may carry it
        # (imports), only moderators and imports may propose it (`service.propose`).
        "assured_date": F("datetime"),
        # Not a column: the taxonomy term codes of the service's categories (attribute rows).
        "categories": F("codes", extra={"max_items": 20}),
    },
    "location": {
        "organization_id": F("uuid", ref=m.Organization),
        "location_type": F("enum", choices=("physical", "postal", "virtual"), nullable=False),
        "url": URL,
        "name": LINE,
        "alternate_name": LINE,
        "description": TEXT,
        "transportation": TEXT,
        "latitude": F("decimal", minimum=-90, maximum=90),
        "longitude": F("decimal", minimum=-180, maximum=180),
        # HSDS: the place's id in another database (an OpenStreetMap import: node/123)
        "external_identifier": F("str", max_length=200),
        "external_identifier_type": F("str", max_length=100),
        "place_id": F("uuid", ref=m.Place),
        "region_id": F("uuid", ref=m.Place),
        "timezone": TZ,
        "privacy": _enum(m.Privacy, nullable=False),
        "shelter_type": _enum(m.ShelterType),
        "capacity_maximum": COUNT,
        "capacity_available": COUNT,
        "has_heating": BOOL,
        "has_power": BOOL,
        "has_water": BOOL,
        "has_internet": BOOL,
        "has_toilets": BOOL,
        "wheelchair_accessible": BOOL,
        "pets_allowed": BOOL,
        "women_children_only": BOOL,
        "open_24_7": BOOL,
        "source_locale": LOCALE,
        # Not a column: services offered here (service_at_location rows), set on create.
        "service_ids": F("uuids", ref=m.Service, extra={"max_items": 50}),
    },
    "address": {
        "location_id": F("uuid", ref=m.Location, required=True, nullable=False),
        "attention": F("str", max_length=200),
        "address_1": F("str", required=True, nullable=False),
        "address_2": F("str"),
        "city": F("str", max_length=200, required=True, nullable=False),
        "region": F("str", max_length=200),
        "state_province": F("str", max_length=200, nullable=False),
        "postal_code": F("str", max_length=20, nullable=False),
        "country": F("str", max_length=2, check="country", required=True, nullable=False),
        "address_type": F("enum", choices=("physical", "postal", "virtual"), nullable=False),
    },
    "phone": {
        "location_id": F("uuid", ref=m.Location),
        "service_id": F("uuid", ref=m.Service),
        "organization_id": F("uuid", ref=m.Organization),
        "number": F("str", max_length=40, check="phone", required=True, nullable=False),
        "extension": F("str", max_length=20),
        "type": F("enum", choices=("text", "voice", "fax", "cell", "video", "pager", "textphone")),
        "description": TEXT,
        "is_hotline": F("bool", nullable=False),
    },
    "schedule": {
        "service_id": F("uuid", ref=m.Service),
        "location_id": F("uuid", ref=m.Location),
        "freq": F("enum", choices=("WEEKLY", "MONTHLY")),
        "byday": F("str", max_length=40, check="byday"),
        "opens_at": F("time"),
        "closes_at": F("time"),
        "valid_from": F("date"),
        "valid_to": F("date"),
        "dtstart": F("date"),
        "timezone": F("str", max_length=64, check="timezone"),
        "description": TEXT,
        "notes": F("text", max_length=5000),
        "attending_type": F("str", max_length=100),
    },
    "language": {
        "service_id": F("uuid", ref=m.Service),
        "location_id": F("uuid", ref=m.Location),
        "code": F("str", max_length=12, check="language", required=True, nullable=False),
        "name": F("str", max_length=100),
        "note": F("text", max_length=2000),
    },
    "required_document": {
        "service_id": F("uuid", ref=m.Service, required=True, nullable=False),
        "document": F("text", max_length=2000, required=True, nullable=False),
        "uri": URL,
    },
    "accessibility": {
        "location_id": F("uuid", ref=m.Location, required=True, nullable=False),
        "description": F("text", max_length=2000),
        "details": F("text", max_length=2000),
        "url": URL,
    },
    "schedule_exception": {
        "service_id": F("uuid", ref=m.Service),
        "location_id": F("uuid", ref=m.Location),
        "date": F("date", required=True, nullable=False),
        "closed": F("bool", nullable=False),
        "opens_at": F("time"),
        "closes_at": F("time"),
        "reason": F("text", max_length=2000),
        "source_locale": LOCALE,
    },
    "notice": {
        "region_id": F("uuid", ref=m.Place),
        "kind": _enum(m.NoticeKind, nullable=False),
        "severity": _enum(m.Severity, nullable=False),
        "title": NAME,
        "body": F("text", max_length=5000, translatable=True, nullable=False),
        "source_locale": LOCALE,
        "valid_from": F("datetime", nullable=False),
        "valid_until": F("datetime", check="future"),
    },
    # A category's label (English in the column, other locales as translations); only the
    # admin's label edit proposes these (`moderation.category_labels`).
    "taxonomy_term": {
        "name": F("str", max_length=200, required=True, translatable=True, nullable=False),
    },
}

MODELS: dict[str, type[Any]] = {
    "organization": m.Organization,
    "service": m.Service,
    "location": m.Location,
    "address": m.Address,
    "phone": m.Phone,
    "schedule": m.Schedule,
    "notice": m.Notice,
    "language": m.Language,
    "required_document": m.RequiredDocument,
    "accessibility": m.Accessibility,
    "schedule_exception": m.ScheduleException,
    "taxonomy_term": m.TaxonomyTerm,
}
#: Record types that belong to a service or a location (children of a listing), in the order a
#: new listing's records are applied: parents first (`service.group_of`).
GROUP_ORDER: tuple[str, ...] = (
    "organization", "service", "location", "address", "phone", "schedule", "schedule_exception",
    "language", "required_document", "accessibility",
)  # fmt: skip

#: Fraud guard: changing these on a published record needs a moderator other than the author.
#: `privacy` is here too: turning a confidential shelter public reveals where it is.
SENSITIVE: dict[str, frozenset[str]] = {
    "organization": frozenset({"email", "website"}),
    "service": frozenset({"url", "email"}),
    "location": frozenset({"latitude", "longitude", "privacy", "url"}),
    "address": frozenset(FIELDS["address"]),
    "phone": frozenset(FIELDS["phone"]),
    "schedule": frozenset(),
    "notice": frozenset(),
    "language": frozenset(),
    "required_document": frozenset({"uri"}),
    "accessibility": frozenset({"url"}),
    "schedule_exception": frozenset(),
    "taxonomy_term": frozenset(),
}
#: Record types whose mere addition to a published listing is sensitive (a new phone number).
SENSITIVE_CREATE = frozenset({"address", "phone"})

#: Fields each quick update may touch.
STATUS_FIELDS = frozenset(
    {"status", "status_reason", "status_reason_code", "status_until", "alternative_service_id"}
)
CAPACITY_FIELDS = frozenset({"capacity_available", "capacity_maximum"})
#: Not columns of the record: handled by the apply step.
VIRTUAL_FIELDS = frozenset({"categories", "service_ids"})

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_BYDAY_RE = re.compile(
    r"^(?:[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU))(?:,[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU))*$"
)


def clean(
    session: Session,
    spec: F,
    value: Any,
    *,
    now: dt.datetime,
    pending: frozenset[uuid.UUID] = frozenset(),
) -> Any:
    """Validate one input value; return its JSON form or raise FieldError. A reference may name
    a record in `pending` (the ids a pending group of change requests creates)."""
    if value is None:
        if not spec.nullable or spec.required:
            raise FieldError("must not be empty", "required")
        return None
    kind = spec.kind
    try:
        if kind in ("str", "text"):
            if spec.check == "url":
                return clean_url(value, max_length=spec.max_length)
            fn = clean_text if kind == "text" else clean_line
            out = fn(value, max_length=spec.max_length, min_length=1 if spec.required else 0)
            return _check_str(session, spec, out)
    except TextInputError as exc:
        raise FieldError(str(exc), exc.code, **exc.params) from None
    if kind == "enum":
        if not isinstance(value, str) or value not in spec.choices:
            raise FieldError("must be one of: " + ", ".join(spec.choices), "not_a_choice")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise FieldError("must be true or false", "not_boolean")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("must be a whole number", "not_integer")
        _range(spec, value)
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise FieldError("must be a number", "not_a_number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise FieldError("must be a number", "not_a_number") from None
        if not number.is_finite():
            raise FieldError("must be a number", "not_a_number")
        _range(spec, number)
        return str(number.quantize(Decimal("0.000001")))
    if kind == "uuid":
        ref_id = as_uuid(value)
        if spec.ref is not None and ref_id not in pending and session.get(spec.ref, ref_id) is None:
            raise FieldError(f"no such {spec.ref.__tablename__}", "unknown_reference")
        return str(ref_id)
    if kind == "uuids":
        if not isinstance(value, list) or len(value) > spec.extra.get("max_items", 50):
            raise FieldError("must be a short list of ids", "bad_list")
        return [clean(session, F("uuid", ref=spec.ref), v, now=now, pending=pending) for v in value]
    if kind == "codes":
        if not isinstance(value, list) or len(value) > spec.extra.get("max_items", 20):
            raise FieldError("must be a short list of category codes", "bad_list")
        codes = []
        for v in value:
            if not isinstance(v, str) or len(v) > 100:
                raise FieldError("must be category codes", "bad_list")
            if session.scalar(select(m.TaxonomyTerm.id).where(m.TaxonomyTerm.code == v)) is None:
                raise FieldError(f"unknown category {v[:100]!r}", "unknown_category")
            codes.append(v)
        return sorted(set(codes))
    if kind in ("date", "time", "datetime"):
        return _temporal(spec, value, now=now)
    raise FieldError("cannot be changed", "not_changeable")  # pragma: no cover


def _check_str(session: Session, spec: F, out: str) -> str | None:
    check = spec.check
    if check == "email":
        if not _EMAIL_RE.match(out):
            raise FieldError("is not a valid email address", "bad_email")
        return out
    if check == "phone":
        try:
            parsed = phonenumbers.parse(out, None)
        except phonenumbers.NumberParseException:
            raise FieldError(
                "must be an international number in E.164 form, e.g. +380441234567", "bad_phone"
            ) from None
        if not phonenumbers.is_valid_number(parsed):
            raise FieldError("is not a valid phone number", "bad_phone")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if check == "locale":
        if session.get(m.Locale, out) is None:
            raise FieldError(f"unknown locale {out!r}", "unknown_locale")
        return out
    if check == "timezone":
        try:
            zoneinfo.ZoneInfo(out)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise FieldError("unknown IANA time zone", "unknown_time_zone") from None
        return out
    if check == "country":
        if not (len(out) == 2 and out.isascii() and out.isalpha()):
            raise FieldError("must be a two-letter country code", "bad_country")
        return out.upper()
    if check == "language":
        if not _LANGUAGE_RE.match(out):
            raise FieldError("must be a language code such as uk, en or pt-BR", "bad_language")
        return out
    if check == "byday" and out and not _BYDAY_RE.match(out.upper()):
        raise FieldError("must be days like MO,TU,WE", "bad_days")
    if check == "byday":
        return out.upper() or None
    return out if (out or spec.required or not spec.nullable) else None


def _range(spec: F, value: Any) -> None:
    if spec.minimum is not None and value < spec.minimum:
        raise FieldError(f"must be at least {spec.minimum:g}", "too_small", min=f"{spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise FieldError(f"must be at most {spec.maximum:g}", "too_large", max=f"{spec.maximum:g}")


class CleanMemo:
    """`clean` remembered for short repeated values (statuses, zones, locales, booleans,
    numbers): most cells of a large import repeat. Used by the importer's check pass and the
    bulk write path, so both apply exactly the rules of `clean`.

    `max_len`: longer strings are cleaned each time; `skip_kinds`: kinds whose result depends on
    the database at call time (references) are never remembered."""

    def __init__(
        self,
        session: Session,
        *,
        now: dt.datetime,
        max_len: int,
        skip_kinds: frozenset[str] = frozenset(),
        limit: int = 200_000,
    ) -> None:
        self.session, self.now, self.max_len = session, now, max_len
        self.skip_kinds, self.limit = skip_kinds, limit
        self._memo: dict[tuple[int, type, Any], tuple[bool, Any]] = {}

    def __call__(self, spec: F, value: Any) -> Any:
        if spec.kind in self.skip_kinds or (isinstance(value, str) and len(value) > self.max_len):
            return clean(self.session, spec, value, now=self.now)
        key = (id(spec), type(value), value)
        hit = self._memo.get(key)
        if hit is None:
            try:
                hit = (True, clean(self.session, spec, value, now=self.now))
            except FieldError as exc:
                hit = (False, exc)
            if len(self._memo) > self.limit:
                self._memo.clear()
            self._memo[key] = hit
        if not hit[0]:
            raise FieldError(str(hit[1]), hit[1].code, **hit[1].params)
        return hit[1]


def as_uuid(value: Any) -> uuid.UUID:
    """An id from a UUID or its text (FieldError "must be an id" otherwise)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > 40:
        raise FieldError("must be an id", "bad_id")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FieldError("must be an id", "bad_id") from None


def _temporal(spec: F, value: Any, *, now: dt.datetime) -> str:
    if isinstance(value, (dt.date, dt.time)):
        value = value.isoformat()
    if not isinstance(value, str) or len(value) > 40:
        raise FieldError(f"must be an ISO 8601 {spec.kind}", "bad_format", kind=spec.kind)
    try:
        if spec.kind == "date":
            return dt.date.fromisoformat(value).isoformat()
        if spec.kind == "time":
            return dt.time.fromisoformat(value).replace(tzinfo=None).isoformat()
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(f"must be an ISO 8601 {spec.kind}", "bad_format", kind=spec.kind) from None
    if when.tzinfo is None:
        raise FieldError(
            "must include a time zone offset, e.g. 2026-01-31T18:00:00+02:00", "missing_offset"
        )
    when = when.astimezone(dt.UTC)
    if spec.check == "future" and when <= now:
        raise FieldError("must be in the future", "past")
    return when.isoformat()


def load(spec: F, value: Any) -> Any:
    """JSON payload value → model attribute value."""
    if value is None:
        return None
    if spec.kind == "decimal":
        return Decimal(value)
    if spec.kind == "uuid":
        return uuid.UUID(value)
    if spec.kind == "date":
        return dt.date.fromisoformat(value)
    if spec.kind == "time":
        return dt.time.fromisoformat(value)
    if spec.kind == "datetime":
        return dt.datetime.fromisoformat(value)
    return value


def dump(value: Any) -> Any:
    """Model attribute value → JSON (for diffs, audit entries and snapshots)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if isinstance(value, m.StrEnum) else value
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.000001")))
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return [dump(v) for v in value]
    return str(value)
