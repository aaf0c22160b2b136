"""The one read path of the public directory, shared by the HTML pages and the JSON API.

Everything a reader may see comes out of here as frozen dataclasses, already redacted: a
confidential location has no address, no coordinates and no precise distance; an approximate one
has coordinates rounded to ~1 km and no street address (rule: `listings.privacy`). Adapters only
format what they get, so none of them can leak a whereabouts.

Pages load in a fixed number of queries whatever the number of results (ids first, then one IN
query per kind of related record), and the filters are SQL that uses indexes on both databases.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Numeric,
    Select,
    String,
    Time,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from directory.i18n import phone_e164, use_locale
from directory.listings import models as m
from directory.listings import refcache
from directory.listings.hours import (
    WEEKDAYS,
    DayHours,
    OpenState,
    effective_status,
    open_state,
    weekly_hours,
    with_status,
    zone,
)
from directory.listings.privacy import public_location_view
from directory.listings.reasons import label as reason_label
from directory.listings.texts import (
    DEFAULT_SOURCE_LOCALE,
    LocalText,
    load_texts,
    resolve,
)
from directory.search.index import fts_rowid
from directory.search.keys import search_terms
from directory.search.match import (
    ZONES,
    Match,
    count_matches,
    dialect_name,
    document_matches,
    index_scans,
    language_token,
    matching_source,
    place_token,
    prepare,
    sqlite_match,
    term_token,
    typo_corrections,
)

Sort = Literal["relevance", "distance"]
MAX_PER_PAGE = 100
_HIDDEN_STATUSES = (m.ServiceStatus.inactive, m.ServiceStatus.defunct)
_TEMPORARY = (m.ServiceStatus.temporarily_closed, m.ServiceStatus.full)
_EARTH_KM = 6371.0088
_KM_PER_DEG = 111.195
#: Near-me: the first bounding box (a page's worth of points in a city centre; an empty box in
#: the countryside costs one index probe), how fast later ones may grow, and the last one
#: before the whole map.
_FIRST_RADIUS_KM = 1.0
_MAX_GROWTH = 4.0
_LAST_RADIUS_KM = 1600.0
#: Approximate locations are shown rounded to 0.01°: their raw coordinates lie within this.
_APPROXIMATE_DEG = 0.005
#: Counting stops here (the reader sees "more than 1,000"): counting every listing a common
#: word or a one-letter prefix matches would cost more than finding the page.
COUNT_CAP = 1000
INDEX_COUNT_CAP = COUNT_CAP
#: With "open now" (evaluated listing by listing) counting stops here ("more than 200").
OPEN_NOW_COUNT_CAP = 200
#: From this many matches a page is read in index order (see `_relevance_page`). FTS5 hands
#: its matches over in that order, so SQLite does so early; PostgreSQL walks the order index
#: testing each row's vector, worth it once roughly one row in 250 matches.
DENSE_MATCHES = 400
DENSE_MATCHES_SQLITE = 50
#: SQLite near-me: up to this many matches, their index keys are read once (`_matching_keys`).
KEY_SET_MAX = 20_000
#: Up to this many matches (counted exactly), a distance sort measures all of them.
SPARSE_DISTANCE = 1000


# --- parameters and results ---------------------------------------------------------------------


@dataclass(frozen=True)
class SearchParams:
    """One search as a reader (or an API client) asked for it. Every field is optional."""

    q: str = ""
    category: str | None = None  # taxonomy term code; includes its sub-categories
    place: str | None = None  # place id or code; a region includes its cities
    open_now: bool = False
    free: bool = False
    language: str | None = None  # ISO 639 code of a language spoken ("uk", "ar")
    wheelchair: bool = False
    pets: bool = False
    women_children: bool = False
    heating: bool = False
    power: bool = False
    water: bool = False
    internet: bool = False
    has_capacity: bool = False
    #: An ordering, not a filter: services open during air-raid alerts first (a danger
    #: notice's "Find a shelter"), then the usual order.
    alert_first: bool = False
    near: tuple[float, float] | None = None  # (lat, lon), already rounded by the reader's phone
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    cursor: str | None = None  # opaque, from SearchResults.next_cursor (wins over `page`)
    locale: str = "en"
    now: dt.datetime | None = None  # defaults to the current time


@dataclass(frozen=True)
class PlaceRef:
    id: uuid.UUID
    code: str | None
    kind: str  # country | region | city
    name: LocalText


@dataclass(frozen=True)
class CategoryRef:
    id: uuid.UUID
    code: str
    label: LocalText
    icon: str | None
    parent_code: str | None


@dataclass(frozen=True)
class ServiceRef:
    """A link to another service (the alternative to a closed one)."""

    id: uuid.UUID
    name: LocalText


@dataclass(frozen=True)
class StatusView:
    """The status a reader sees. `status` is already effective: an expired temporary status is
    `active`. `temporary` = temporarily closed or full (label it, rank it after open ones)."""

    status: str
    temporary: bool
    reason: LocalText | None  # own words (lang/dir when a fallback), else the code's label
    since: dt.datetime | None
    until: dt.datetime | None
    alternative: ServiceRef | None
    reason_code: str | None = None  # a one-tap reason (`listings.reasons`), any language


@dataclass(frozen=True)
class PhoneView:
    number: str
    extension: str | None
    type: str | None
    description: LocalText | None
    is_hotline: bool
    tel: str  # "tel:+380441234567" (extension as ";ext=")


@dataclass(frozen=True)
class AddressView:
    """A public address. For approximate locations the street fields are None."""

    address_1: str | None
    address_2: str | None
    postal_code: str | None
    city: str
    region: str | None
    state_province: str | None
    country: str


@dataclass(frozen=True)
class Amenities:
    heating: bool | None
    power: bool | None
    water: bool | None
    internet: bool | None
    toilets: bool | None
    wheelchair: bool | None
    pets: bool | None
    women_children: bool | None
    open_24_7: bool | None


@dataclass(frozen=True)
class Capacity:
    maximum: int | None
    available: int | None
    updated: dt.datetime | None


@dataclass(frozen=True)
class LocationView:
    """One location as the public may see it (already redacted by its privacy level)."""

    id: uuid.UUID
    privacy: str  # exact | approximate | confidential
    name: LocalText | None
    address: AddressView | None  # None for confidential locations
    latitude: float | None  # None for confidential; 2 decimals for approximate
    longitude: float | None
    approximate: bool  # coordinates rounded to ~1 km
    city: PlaceRef | None
    region: PlaceRef | None
    timezone: str
    shelter_type: str | None
    capacity: Capacity
    amenities: Amenities
    open_during_alert: bool | None
    transportation: LocalText | None  # None unless exact
    description: LocalText | None  # None unless exact
    accessibility: tuple[LocalText, ...]
    phones: tuple[PhoneView, ...]  # hotlines only for confidential locations
    open: OpenState
    geo_uri: str | None  # "geo:50.45,30.52" when coordinates are public
    osm_url: str | None
    #: OpenStreetMap's route planner to the place, on foot, from a start the reader fills in on
    #: that site (their position never passes through the directory)
    directions_url: str | None = None


@dataclass(frozen=True)
class ServiceCard:
    """One result in a list: what a reader needs to choose."""

    id: uuid.UUID
    name: LocalText
    alternate_name: LocalText | None
    summary: LocalText | None  # the description (templates shorten it)
    organization_id: uuid.UUID
    organization_name: LocalText
    status: StatusView
    categories: tuple[CategoryRef, ...]
    location: LocationView | None  # the location matching the search (nearest with `near`)
    location_count: int
    distance_km: float | None
    distance_approximate: bool  # measured to the city/region centre (confidential place)
    open: OpenState | None  # at `location`
    phones: tuple[PhoneView, ...]  # the service's own, then the location's (hotlines only if
    # the location is confidential)
    languages: tuple[str, ...]
    free_of_charge: bool | None
    audience: tuple[str, ...]
    last_verified: dt.datetime | None
    stale: bool
    is_demo: bool
    fallback: bool  # some text is not in the requested locale (shown in its source locale)


@dataclass(frozen=True)
class LanguageView:
    code: str
    name: str | None
    note: LocalText | None


@dataclass(frozen=True)
class ExceptionView:
    """A dated exception to the hours (today or later), in the location's zone."""

    date: dt.date
    closed: bool
    opens_at: dt.time | None
    closes_at: dt.time | None
    reason: LocalText | None


@dataclass(frozen=True)
class DocumentView:
    document: LocalText
    uri: str | None


@dataclass(frozen=True)
class OrganizationView:
    id: uuid.UUID
    name: LocalText
    alternate_name: LocalText | None
    description: LocalText | None
    website: str | None
    email: str | None
    is_demo: bool


@dataclass(frozen=True)
class ServiceDetail:
    """Everything known about one service that a reader may see (the service page)."""

    id: uuid.UUID
    name: LocalText
    alternate_name: LocalText | None
    description: LocalText | None
    organization: OrganizationView
    status: StatusView
    alert: LocalText | None
    categories: tuple[CategoryRef, ...]
    locations: tuple[LocationView, ...]
    hours: tuple[DayHours, ...]  # weekly table (Monday first) of the first location
    exceptions: tuple[ExceptionView, ...]  # upcoming dated exceptions
    open: OpenState | None  # at the first location, in its own time zone
    phones: tuple[PhoneView, ...]
    languages: tuple[LanguageView, ...]
    eligibility: LocalText | None
    required_documents: tuple[DocumentView, ...]
    fees: LocalText | None
    free_of_charge: bool | None
    application_process: LocalText | None
    interpretation_services: LocalText | None
    audience: tuple[str, ...]
    minimum_age: int | None
    maximum_age: int | None
    url: str | None
    email: str | None
    open_during_alert: bool | None
    last_verified: dt.datetime | None
    stale: bool
    updated_at: dt.datetime
    is_demo: bool
    fallback: bool
    version: int


@dataclass(frozen=True)
class SearchResults:
    items: list[ServiceCard]
    total: int
    page: int
    per_page: int
    next_cursor: str | None
    suggestion: str | None = None  # "did you mean": the corrected query when typos were fixed
    corrected: bool = False  # the items are those of `suggestion` (nothing matched `q`)
    total_exact: bool = True  # False: `total` is a lower bound ("more than 1,000"; with
    # open_now "more than 200")


@dataclass(frozen=True)
class NoticeView:
    id: uuid.UUID
    severity: str  # info | warning | danger
    title: LocalText
    body: LocalText | None
    region: PlaceRef | None  # None: applies everywhere
    valid_from: dt.datetime  # UTC
    valid_until: dt.datetime | None  # UTC
    is_demo: bool
    kind: str = "general"  # general | alert | blackout | water | evacuation
    #: IANA zone its times are shown in: the region's (or the nearest place above it with one);
    #: nationwide notices get the directory's zone from `notices_in_force(timezone=...)`.
    timezone: str | None = None


@dataclass(frozen=True)
class PlaceView:
    id: uuid.UUID
    code: str | None
    kind: str
    name: LocalText
    parent_id: uuid.UUID | None
    latitude: float | None
    longitude: float | None
    timezone: str | None


@dataclass(frozen=True)
class CategoryView:
    id: uuid.UUID
    code: str
    label: LocalText
    description: LocalText | None
    icon: str | None
    position: int
    children: tuple[CategoryView, ...] = field(default_factory=tuple)


# --- helpers ------------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def _fl(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _tel(number: str, extension: str | None) -> str:
    """An RFC 3966 link with the number in E.164 (what a phone dials from anywhere)."""
    ext = "".join(ch for ch in extension if ch.isdigit()) if extension else ""
    return f"tel:{phone_e164(number)}" + (f";ext={ext}" if ext else "")


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset in an opaque cursor; 0 for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = int(json.loads(raw)["o"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return 0
    return max(0, offset)


def _is_stale(assured: dt.datetime | None, now: dt.datetime, stale_after_days: int) -> bool:
    return assured is None or assured < now - dt.timedelta(days=stale_after_days)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- reference data: places and categories ------------------------------------------------------


def _place_ids_within(session: Session, place: str) -> set[uuid.UUID]:
    """The place named by id or code and every place below it (a region and its cities)."""
    places = session.execute(
        select(m.Place.id, m.Place.code, m.Place.parent_id).where(m.Place.archived_at.is_(None))
    ).all()
    pid = _as_uuid(place)
    root = next((p.id for p in places if p.id == pid or (p.code and p.code == place)), None)
    if root is None:
        return set()
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for p in places:
        if p.parent_id is not None:
            children.setdefault(p.parent_id, []).append(p.id)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _term_ids_within(session: Session, code: str) -> set[uuid.UUID]:
    terms = session.execute(
        select(m.TaxonomyTerm.id, m.TaxonomyTerm.code, m.TaxonomyTerm.parent_id).where(
            m.TaxonomyTerm.archived_at.is_(None)
        )
    ).all()
    root = next((t.id for t in terms if t.code == code), None)
    if root is None:
        return set()
    found, todo = {root}, [root]
    while todo:
        parent = todo.pop()
        for t in terms:
            if t.parent_id == parent and t.id not in found:
                found.add(t.id)
                todo.append(t.id)
    return found


def list_places(session: Session, *, locale: str) -> list[PlaceView]:
    """Every place of the gazetteer (countries, regions, cities), named in `locale` (cached per
    process until the data version changes)."""
    return list(_reference(session, locale).place_views)


def list_categories(session: Session, *, locale: str) -> list[CategoryView]:
    """The category tree (top level first, by position), labelled in `locale` (cached per process
    until the data version changes)."""
    return list(_reference(session, locale).categories)


def notices_in_force(
    session: Session,
    *,
    locale: str,
    place_id: uuid.UUID | None = None,
    now: dt.datetime,
    everywhere: bool = False,
    timezone: str | None = None,
) -> list[NoticeView]:
    """Notices valid at `now`: everywhere-notices and, with `place_id`, those of that place and
    of every place above it (a city sees its region's and its country's). Most severe first.
    `everywhere=True`: every notice in force whatever its region (the home page, which does not
    know where the reader is; each notice names its region). The notices come from the reference
    cache (keyed on the data version); validity is checked against `now` on every call.
    `timezone`: the zone of notices whose region names none (nationwide: the directory's)."""
    ref = _reference(session, locale)
    scope: set[uuid.UUID] = set()
    cur = ref.places.get(place_id) if place_id else None
    while cur is not None and not cur.archived and cur.id not in scope:
        scope.add(cur.id)
        cur = ref.places.get(cur.parent_id) if cur.parent_id else None
    rank = {"danger": 0, "warning": 1, "info": 2}
    out = [
        view
        for view, region_id in ref.notices
        if view.valid_from <= now
        and (view.valid_until is None or view.valid_until > now)
        and (everywhere or region_id is None or region_id in scope)
    ]
    out.sort(key=lambda v: (rank.get(v.severity, 3), -v.valid_from.timestamp()))
    if timezone:
        out = [v if v.timezone else replace(v, timezone=timezone) for v in out]
    return out


# --- search: SQL filters --------------------------------------------------------------------------


def _visible() -> ColumnElement[bool]:
    return and_(m.Service.archived_at.is_(None), m.Service.status.notin_(_HIDDEN_STATUSES))


def _temporary_now(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        m.Service.status.in_(_TEMPORARY),
        or_(m.Service.status_until.is_(None), m.Service.status_until > now),
        or_(m.Service.status_since.is_(None), m.Service.status_since <= now),
    )


def _closed_now(now: dt.datetime) -> ColumnElement[bool]:
    """Temporarily closed at `now` (SQL twin of `hours.with_status`: such a service is never
    "open now", whatever its hours say; inactive and defunct ones are not listed at all)."""
    return and_(
        m.Service.status == m.ServiceStatus.temporarily_closed,
        or_(m.Service.status_until.is_(None), m.Service.status_until > now),
        or_(m.Service.status_since.is_(None), m.Service.status_since <= now),
    )


def _open_now_filter(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    """The "open now" filter: open by its hours at a live location, and not closed by status."""
    return and_(~_closed_now(now), _location_match([_open_now(session, now)]))


def _location_zones(session: Session) -> list[str]:
    """The time zones of indexed locations (kept by the indexer; a tiny table)."""
    return [z for z in session.scalars(select(ZONES.c.name)) if z]


def _in_hours(opens: Any, closes: Any, t: Any) -> ColumnElement[bool]:
    """A span starting that day covers wall-clock time `t` (closes <= opens: past midnight)."""
    return and_(opens <= t, or_(closes > t, closes <= opens))


def _tail(opens: Any, closes: Any, t: Any) -> ColumnElement[bool]:
    """A span that started the day before and runs past midnight still covers `t`."""
    return and_(closes <= opens, closes > t)


def _weekly(day: Any, code: Any, when: ColumnElement[bool]) -> ColumnElement[bool]:
    s = m.Schedule
    return (
        exists()
        .where(
            or_(
                s.service_id == m.Service.id,
                s.location_id == m.Location.id,
                s.service_at_location_id == m.ServiceAtLocation.id,
            ),
            s.archived_at.is_(None),
            or_(s.freq.is_(None), s.freq == "WEEKLY"),
            s.opens_at.is_not(None),
            s.closes_at.is_not(None),
            or_(s.byday.is_(None), s.byday == "", func.upper(s.byday).contains(code)),
            or_(s.valid_from.is_(None), s.valid_from <= day),
            or_(s.dtstart.is_(None), s.dtstart <= day),
            or_(s.valid_to.is_(None), s.valid_to >= day),
            or_(s.until.is_(None), s.until >= day),
            when,
        )
        .correlate_except(s)
    )  # service, location, service_at_location come from the outer query


def _exception(day: Any, when: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    e = m.ScheduleException
    conds = [
        or_(e.location_id == m.Location.id, e.service_id == m.Service.id),
        e.archived_at.is_(None),
        e.date == day,
    ]
    if when is not None:
        conds += [e.opens_at.is_not(None), e.closes_at.is_not(None), when]
    return exists().where(*conds).correlate_except(e)


def _zone_clock(session: Session, now: dt.datetime) -> Any:
    """A small derived table: for each time zone in use, its local date, yesterday, wall-clock
    time and weekday codes at `now` (so the SQL does not grow with the number of zones)."""
    rows = []
    for name in _location_zones(session):
        local = now.astimezone(zone(name))
        today = local.date()
        yday = today - dt.timedelta(days=1)
        rows.append(
            select(
                literal(name, String()).label("name"),
                literal(today, Date()).label("today"),
                literal(yday, Date()).label("yday"),
                literal(local.time().replace(tzinfo=None), Time()).label("t"),
                literal(WEEKDAYS[today.weekday()], String()).label("wd"),
                literal(WEEKDAYS[yday.weekday()], String()).label("ywd"),
            )
        )
    if not rows:
        return None
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("zone_clock")


def _open_now(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    """SQL twin of `hours.open_state(...).open_now`, in each location's zone (see hours.py)."""
    zc = _zone_clock(session, now)
    if zc is None:
        return m.Location.id.is_(None)  # no location at all
    s, e = m.Schedule, m.ScheduleException
    today_open = or_(
        and_(
            ~_exception(zc.c.today),
            or_(
                m.Location.open_24_7.is_(True),
                _weekly(zc.c.today, zc.c.wd, _in_hours(s.opens_at, s.closes_at, zc.c.t)),
            ),
        ),
        _exception(zc.c.today, _in_hours(e.opens_at, e.closes_at, zc.c.t)),
    )
    tail = or_(
        and_(
            ~_exception(zc.c.yday),
            m.Location.open_24_7.is_not(True),
            _weekly(zc.c.yday, zc.c.ywd, _tail(s.opens_at, s.closes_at, zc.c.t)),
        ),
        _exception(zc.c.yday, _tail(e.opens_at, e.closes_at, zc.c.t)),
    )
    return (
        exists().where(zc.c.name == m.Location.timezone, or_(today_open, tail)).correlate_except(zc)
    )


def _location_filters(
    session: Session, params: SearchParams, now: dt.datetime
) -> list[ColumnElement[bool]]:
    """The location-level filters as SQL on `location`, to pick the location a card shows."""
    L = m.Location
    conds: list[ColumnElement[bool]] = []
    flags = (
        (params.wheelchair, L.wheelchair_accessible),
        (params.pets, L.pets_allowed),
        (params.women_children, L.women_children_only),
        (params.heating, L.has_heating),
        (params.power, L.has_power),
        (params.water, L.has_water),
        (params.internet, L.has_internet),
    )
    conds += [col.is_(True) for wanted, col in flags if wanted]
    if params.has_capacity:
        conds.append(L.capacity_available > 0)
    if params.place:
        ids = _place_ids_within(session, params.place)
        # (an unknown place matches nothing; `id IS NULL` keeps the EXISTS a proper join)
        conds.append(or_(L.place_id.in_(ids), L.region_id.in_(ids)) if ids else L.id.is_(None))
    if params.open_now:
        conds.append(_open_now(session, now))
    return conds


def _location_match(conds: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """The service has a (live) location meeting every condition. Checked service by service
    as the search reads them (OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join
    that evaluates the conditions for every location in the directory first)."""
    return (
        select(literal_column("1"))
        .where(
            m.ServiceAtLocation.service_id == m.Service.id,
            m.ServiceAtLocation.archived_at.is_(None),
            m.Location.id == m.ServiceAtLocation.location_id,
            m.Location.archived_at.is_(None),
            *conds,
        )
        .offset(0)
        .exists()
    )


_AMENITY_PARAMS = (
    ("wheelchair", "wheelchair"),
    ("pets", "pets"),
    ("women_children", "womenchildren"),
    ("heating", "heating"),
    ("power", "power"),
    ("water", "water"),
    ("internet", "internet"),
    ("has_capacity", "capacity"),
    ("free", "free"),
)


def _facets(session: Session, params: SearchParams) -> list[str] | None:
    """The facet tokens the static filters ask for; None when one names nothing known."""
    tokens = [tok for attr, tok in _AMENITY_PARAMS if getattr(params, attr)]
    if params.language and params.language.strip():
        tokens.append(language_token(params.language))
    if params.category:
        term = session.scalar(
            select(m.TaxonomyTerm.id).where(
                m.TaxonomyTerm.code == params.category, m.TaxonomyTerm.archived_at.is_(None)
            )
        )
        if term is None:
            return None
        tokens.append(term_token(term))
    if params.place:
        pid = _as_uuid(params.place)
        place = session.scalar(
            select(m.Place.id).where(
                or_(m.Place.id == pid, m.Place.code == params.place)
                if pid
                else m.Place.code == params.place,
                m.Place.archived_at.is_(None),
            )
        )
        if place is None:
            return None
        tokens.append(place_token(place))
    return tokens


@dataclass(frozen=True)
class _Query:
    """One search, resolved: what the index must match and the filters it cannot answer."""

    match: Match
    dynamic: tuple[ColumnElement[bool], ...]  # time-dependent filters (open now), on `service`
    impossible: bool


def _base(session: Session, q: _Query) -> tuple[Select[Any], Any]:
    """SELECT service.id FROM <index> JOIN service ... WHERE <match> AND <dynamic>, and the
    column that orders a tier (FTS5 rowid / sort_key: the same hash on both databases)."""
    src, sid, key, conds = matching_source(session, q.match)
    stmt = (
        select(m.Service.id)
        .select_from(src)
        .join(m.Service, m.Service.id == sid)
        .where(*conds, _visible(), *q.dynamic)
    )
    return stmt, key


def _count(session: Session, q: _Query) -> tuple[int, bool]:
    """(total, exact). The index counts up to INDEX_COUNT_CAP; with "open now", which is
    evaluated listing by listing, counting stops at OPEN_NOW_COUNT_CAP (either way past the cap
    the reader sees "more than ...")."""
    if q.impossible:
        return 0, True
    if not q.dynamic:
        n = count_matches(session, q.match, cap=INDEX_COUNT_CAP)
        return min(n, INDEX_COUNT_CAP), n <= INDEX_COUNT_CAP
    stmt, _key = _base(session, q)
    cap = OPEN_NOW_COUNT_CAP
    with index_scans(session):
        n = int(
            session.scalar(select(func.count()).select_from(stmt.limit(cap + 1).subquery())) or 0
        )
    return min(n, cap), n <= cap


def _relevance_page(
    session: Session,
    q: _Query,
    now: dt.datetime,
    stale_after_days: int,
    offset: int,
    limit: int,
    dense: bool,
    *,
    alert_first: bool = False,
) -> list[uuid.UUID]:
    """Open listings first, then stale ones, then temporarily closed or full ones; a stable
    order inside each tier. One statement. With many matches (`dense`) each tier is read in
    index order and stops at the page's end, so a word found in most listings costs no more
    than a rare one; with fewer, the matches are fetched through the text index and sorted once
    (`key + 0` keeps PostgreSQL from walking the order index past thousands of misses)."""
    stmt, key = _base(session, q)
    cutoff = now - dt.timedelta(days=stale_after_days)
    temporary = _temporary_now(now)
    stale = or_(m.Service.assured_date.is_(None), m.Service.assured_date < cutoff)
    tiers: tuple[ColumnElement[bool], ...] = (
        and_(~temporary, ~stale),
        and_(~temporary, stale),
        temporary,
    )
    if alert_first:  # the same tiers, first among the services open during alerts
        during = m.Service.open_during_alert.is_(True)
        tiers = tuple(and_(during, t) for t in tiers) + tuple(and_(~during, t) for t in tiers)
    need = offset + limit
    if not dense:
        tier = case(*((t, i) for i, t in enumerate(tiers[:-1])), else_=len(tiers) - 1)
        with index_scans(session):
            return list(session.scalars(stmt.order_by(tier, key + 0).offset(offset).limit(limit)))
    # Tier by tier, each in index order, only as far as the page needs: the first tier (open,
    # recently checked: most listings) nearly always fills it, and reading the sparse later
    # tiers in index order would mean testing thousands of rows to find a few.
    ids: list[uuid.UUID] = []
    # (not with "open now": its schedule look-ups need bitmap scans, one OR of three indexes)
    with index_scans(session, in_order=True) if not q.dynamic else nullcontext():
        for cond in tiers:
            ids += session.scalars(stmt.where(cond).order_by(key).limit(need - len(ids)))
            if len(ids) >= need:
                break
    return ids[offset:need]


Box = tuple[float, float, float, float]  # lat0, lat1, lon0, lon1


def _in_box(lat: Any, lon: Any, box: Box) -> ColumnElement[bool]:
    lat0, lat1, lon0, lon1 = box
    return and_(
        lat.between(_degrees(lat0, up=False), _degrees(lat1, up=True)),
        lon.between(_degrees(lon0, up=False), _degrees(lon1, up=True)),
    )


def _public_points(box: Box | None, inner: Box | None = None) -> Select[Any]:
    """(location_id, lat, lon) as the public may locate them, optionally inside a bounding box
    and outside an `inner` one (the ring a grown box adds): exact and approximate locations by
    their own coordinates (approximate rounded to 0.01°) via the (latitude, longitude) index,
    confidential ones by their city's (or region's) centre via (place_id, privacy)."""
    L, P = m.Location, m.Place
    lat = case((L.privacy == m.Privacy.approximate, func.round(L.latitude, 2)), else_=L.latitude)
    lon = case((L.privacy == m.Privacy.approximate, func.round(L.longitude, 2)), else_=L.longitude)
    own = select(
        L.id.label("location_id"), cast(lat, Float).label("lat"), cast(lon, Float).label("lon")
    ).where(
        L.archived_at.is_(None),
        L.privacy != m.Privacy.confidential,
        L.latitude.is_not(None),
        L.longitude.is_not(None),
    )
    # Confidential places count from their city's (else region's) centre. The places in the box
    # are found first (a small table), then their locations through the place/region indexes.
    centres = select(P.id).where(P.latitude.is_not(None), P.longitude.is_not(None))
    if box is not None:
        # (an approximate location's raw coordinates lie within 0.005° of its public point)
        own = own.where(_in_box(L.latitude, L.longitude, _widen(box, _APPROXIMATE_DEG)))
        centres = centres.where(_in_box(P.latitude, P.longitude, box))
    if inner is not None:
        own = own.where(~_in_box(L.latitude, L.longitude, _widen(inner, _APPROXIMATE_DEG)))
        centres = centres.where(~_in_box(P.latitude, P.longitude, inner))
    city = (
        select(
            L.id.label("location_id"),
            cast(P.latitude, Float).label("lat"),
            cast(P.longitude, Float).label("lon"),
        )
        .join(P, P.id == L.place_id)
        .where(
            L.place_id.in_(centres),
            L.archived_at.is_(None),
            L.privacy == m.Privacy.confidential,
        )
    )
    region = (
        select(
            L.id.label("location_id"),
            cast(P.latitude, Float).label("lat"),
            cast(P.longitude, Float).label("lon"),
        )
        .join(P, P.id == L.region_id)
        .where(
            L.region_id.in_(centres),
            L.place_id.is_(None),
            L.archived_at.is_(None),
            L.privacy == m.Privacy.confidential,
        )
    )
    return select(union_all(own, city, region).subquery())


def _degrees(value: float, *, up: bool) -> Any:
    """A box edge as a NUMERIC(9, 6) like the coordinate columns, rounded outwards (a float
    parameter would make PostgreSQL compare `latitude::float8`, which no index serves)."""
    micro = math.ceil(value * 1e6) if up else math.floor(value * 1e6)
    return literal(Decimal(micro).scaleb(-6), Numeric(9, 6))


def _widen(box: Box, deg: float) -> Box:
    return box[0] - deg, box[1] + deg, box[2] - deg, box[3] + deg


def _box(near: tuple[float, float], radius_km: float) -> Box:
    """The box holding every point within `radius_km` of `near` (longitude degrees measured at
    the box's edge nearer the pole, where they are shortest)."""
    lat, lon = near
    dlat = radius_km / _KM_PER_DEG
    edge = min(89.0, abs(lat) + dlat)
    dlon = min(180.0, radius_km / (_KM_PER_DEG * max(0.01, math.cos(math.radians(edge)))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _points(
    session: Session,
    box: Box | None,
    service_ids: Sequence[uuid.UUID] | Select[Any] | None = None,
    inner: Box | None = None,
) -> list[tuple[uuid.UUID, float, float]]:
    """(service_id, lat, lon) of every public point, in `box` (and not in `inner`) and/or of
    `service_ids` (a list, or a SELECT of ids the database runs once)."""
    pts = _public_points(box, inner).subquery()
    stmt = (
        select(m.ServiceAtLocation.service_id, pts.c.lat, pts.c.lon)
        .join(pts, pts.c.location_id == m.ServiceAtLocation.location_id)
        .where(m.ServiceAtLocation.archived_at.is_(None))
    )
    if isinstance(service_ids, Select):
        stmt = stmt.where(m.ServiceAtLocation.service_id.in_(service_ids.subquery().select()))
    elif service_ids is not None:
        stmt = stmt.where(m.ServiceAtLocation.service_id.in_(list(service_ids)))
    return [(r[0], float(r[1]), float(r[2])) for r in session.execute(stmt)]


def _nearest(
    rows: Sequence[tuple[uuid.UUID, float, float]], near: tuple[float, float]
) -> dict[uuid.UUID, float]:
    best: dict[uuid.UUID, float] = {}
    for sid, lat, lon in rows:
        d = haversine_km(near, (lat, lon))
        if d < best.get(sid, math.inf):
            best[sid] = d
    return best


def _distance_page(
    session: Session,
    q: _Query,
    near: tuple[float, float],
    offset: int,
    limit: int,
    total: int,
    exact: bool = True,
    *,
    alert_first: bool = False,
) -> list[uuid.UUID]:
    """One page by distance from `near` (public points only: a confidential place counts from
    its city or region centre). Few matches: all of them are measured. Many: a bounding box
    around `near` grows until the page is surely complete, and the points in it are checked
    against the query in distance order. `alert_first` (few matches): the services open
    during air-raid alerts first, each part by distance."""
    stmt, key = _base(session, q)
    need = offset + limit
    if alert_first and exact and total <= SPARSE_DISTANCE:
        ordered = _distance_page(session, q, near, 0, total, total, exact)
        during = (
            set(
                session.scalars(
                    select(m.Service.id).where(
                        m.Service.id.in_(ordered), m.Service.open_during_alert.is_(True)
                    )
                )
            )
            if ordered
            else set()
        )
        ordered.sort(key=lambda i: i not in during)  # stable: distance order inside each part
        return ordered[offset:need]
    if exact and total <= SPARSE_DISTANCE:
        with index_scans(session):
            # Every match is on the page or before it: all their ids are needed anyway.
            ids = list(session.scalars(stmt.order_by(key))) if total <= need else None
            # (the matches as a subquery: no statement with a thousand parameters to build)
            dist = _nearest(_points(session, None, stmt), near)
        # ties in id order, which is index order (sort_key = the id's first bytes)
        located = sorted(dist, key=lambda i: (dist[i], i))
        if ids is None:
            if len(located) >= need:
                return located[offset:need]
            with index_scans(session):  # then the matches without a public point
                ids = list(session.scalars(stmt.order_by(key)))
        return (located + [i for i in ids if i not in dist])[offset:need]
    # Grow a box around `near`, reading only the ring each step adds, until `need` matching
    # services lie within the circle the box holds (every point inside it has then been seen).
    keys = _matching_keys(session, q)
    best: dict[uuid.UUID, float] = {}  # nearest distance seen, per service
    verdict: dict[uuid.UUID, bool] = {}  # matches the query?
    # (distance, id): ties in id order, which is index order (sort_key = the id's first bytes)
    accepted: list[tuple[float, uuid.UUID]] = []
    radius: float | None = _FIRST_RADIUS_KM
    inner: Box | None = None
    while True:
        box = _box(near, radius) if radius is not None else None
        fresh = _nearest(_points(session, box, inner=inner), near)
        for sid, d in fresh.items():
            if d < best.get(sid, math.inf):
                best[sid] = d
        todo = sorted((best[sid], sid) for sid in fresh if sid not in verdict)
        done = False
        # Nearest first, in batches: a first small one (most listings match a plain near-me
        # search), then bigger ones.
        start, size = 0, 2 * need
        while True:
            batch = todo[start : start + size]
            ok = _filter_ids(session, q, [sid for _d, sid in batch], keys) if batch else set()
            verdict.update((sid, sid in ok) for _d, sid in batch)
            accepted = sorted((d, sid) for sid, d in best.items() if verdict.get(sid))
            start += size
            # Not judged yet: the rest of this ring (farther than this batch) and what lies
            # outside the box (farther than `radius`).
            bound = min(
                todo[start][0] if start < len(todo) else math.inf,
                radius if radius is not None else math.inf,
            )
            if len(accepted) >= need and accepted[need - 1][0] <= bound:
                done = True
                break
            if start >= len(todo):
                break
            size = 400
        if done or radius is None:
            break
        if radius >= _LAST_RADIUS_KM:
            radius, inner = None, box
            continue
        if len(accepted) >= need:  # enough, but some lie in the box's corners: just reach them
            radius, inner = max(accepted[need - 1][0], radius * 1.05), box
        else:  # matches within the circle so far tell how much bigger the next box must be
            within = sum(1 for d, _sid in accepted if d <= radius)
            growth = math.sqrt(need / max(within, 0.5)) * 1.25
            radius, inner = radius * min(_MAX_GROWTH, max(1.5, growth)), box
        radius = min(radius, _LAST_RADIUS_KM)
    if len(accepted) >= need:
        return [sid for _d, sid in accepted[offset:need]]
    located = [sid for _d, sid in accepted]
    rest = [i for i in session.scalars(stmt.order_by(key)) if i not in verdict]
    return (located + rest)[offset:need]


def _matching_keys(session: Session, q: _Query) -> set[int] | None:
    """SQLite: the index keys (FTS5 rowids) of every match, when the query narrows the listings
    down to at most KEY_SET_MAX (near-me then tests candidates by a set look-up instead of
    reading their documents); None otherwise (every listing matches, or too many do: then
    most candidates pass and few need testing)."""
    if dialect_name(session) != "sqlite" or (not q.match.words and q.match.facets == ("all",)):
        return None
    # thousands of plain integers: straight from the driver, without per-row result handling
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            "SELECT rowid FROM service_fts WHERE service_fts MATCH ? LIMIT ?",
            (sqlite_match(q.match), KEY_SET_MAX + 1),
        )
        keys = {row[0] for row in cursor.fetchall()}
    finally:
        cursor.close()
    return keys if len(keys) <= KEY_SET_MAX else None


def _filter_ids(
    session: Session, q: _Query, ids: Sequence[uuid.UUID], keys: set[int] | None = None
) -> set[uuid.UUID]:
    """Which of `ids` match the query, by the index's own rule (every word begins a document
    word, every facet present) and the time-dependent filters. PostgreSQL tests the stored
    vectors of just these rows; SQLite looks the candidates up in `keys` (`_matching_keys`)
    when it has them, else checks their stored documents (read only when there are words)."""
    if dialect_name(session) == "postgresql":
        stmt, _key = _base(session, q)
        return set(session.scalars(stmt.where(m.Service.id.in_(list(ids)))))
    if keys is not None:
        found = [i for i in ids if fts_rowid(i) in keys]
        if not found:
            return set()
        return set(
            session.scalars(
                select(m.Service.id).where(m.Service.id.in_(found), _visible(), *q.dynamic)
            )
        )
    S = m.ServiceSearch
    doc = S.document if q.match.words else literal("")
    rows = session.execute(
        select(S.service_id, doc, S.facets)
        .join(m.Service, m.Service.id == S.service_id)
        .where(S.service_id.in_(list(ids)), _visible())
    ).all()
    ok = {sid for sid, text, facets in rows if document_matches(q.match, text, facets)}
    if ok and q.dynamic:
        ok = set(session.scalars(select(m.Service.id).where(m.Service.id.in_(ok), *q.dynamic)))
    return ok


# --- search -------------------------------------------------------------------------------------


def search_services(
    session: Session, params: SearchParams, *, stale_after_days: int
) -> SearchResults:
    """The services matching `params`: one page of cards, the total and a typo suggestion."""
    now = _now(params.now)
    per_page = max(1, min(MAX_PER_PAGE, params.per_page))
    page = max(1, params.page)
    offset = decode_cursor(params.cursor) if params.cursor else (page - 1) * per_page
    page = offset // per_page + 1
    words = search_terms(params.q)[:12]
    facets = _facets(session, params)
    dynamic = (_open_now_filter(session, now),) if params.open_now else ()
    query = _Query(prepare(session, words, facets or ()), dynamic, facets is None)
    query = replace(query, impossible=query.impossible or query.match.impossible)
    total, exact = _count(session, query)
    suggestion: str | None = None
    corrected = False
    if words and total == 0 and facets is not None:
        fixed = typo_corrections(session, words)
        if fixed != words:
            retry = _Query(prepare(session, fixed, facets), dynamic, False)
            retry = replace(retry, impossible=retry.match.impossible)
            total, exact = _count(session, retry)
            if total:
                query, suggestion, corrected = retry, " ".join(fixed), True
    if total == 0 or (exact and offset >= total):
        ids: list[uuid.UUID] = []
    elif params.sort == "distance" and params.near is not None:
        ids = _distance_page(
            session,
            query,
            params.near,
            offset,
            per_page,
            total,
            exact,
            alert_first=params.alert_first,
        )
    else:
        dense_from = DENSE_MATCHES_SQLITE if dialect_name(session) == "sqlite" else DENSE_MATCHES
        # (with "open now" an exact total means few listings pass it: reading the tiers one
        # after another would test the others up to three times, one sorted pass tests each once)
        dense = not exact or (total >= dense_from and not query.dynamic)
        ids = _relevance_page(
            session,
            query,
            now,
            stale_after_days,
            offset,
            per_page,
            dense,
            alert_first=params.alert_first,
        )
    loc_conds = _location_filters(session, params, now) if ids else []
    cards = _cards(
        session, ids, params=params, now=now, stale_after_days=stale_after_days, loc=loc_conds
    )
    next_offset = offset + per_page
    more = next_offset < total or (not exact and len(ids) == per_page)
    return SearchResults(
        items=cards,
        total=total,
        page=page,
        per_page=per_page,
        next_cursor=encode_cursor(next_offset) if more else None,
        suggestion=suggestion,
        corrected=corrected,
        total_exact=exact,
    )


# --- loading pages: a fixed number of queries -----------------------------------------------------
#
# Cards and the service page are built from plain Core rows holding only the columns they show
# (no ORM identity map, no relationship loaders): one IN query per kind of related record, the
# gazetteer and the category tree from the per-process reference cache (`_reference`).

_SERVICE_COLS = (
    m.Service.id,
    m.Service.organization_id,
    m.Service.name,
    m.Service.alternate_name,
    m.Service.description,
    m.Service.source_locale,
    m.Service.status,
    m.Service.status_reason,
    m.Service.status_reason_code,
    m.Service.status_since,
    m.Service.status_until,
    m.Service.alternative_service_id,
    m.Service.open_during_alert,
    m.Service.free_of_charge,
    m.Service.audience,
    m.Service.assured_date,
    m.Service.is_demo,
    m.Service.archived_at,
)
_DETAIL_COLS = (
    m.Service.url,
    m.Service.email,
    m.Service.interpretation_services,
    m.Service.application_process,
    m.Service.fees_description,
    m.Service.eligibility_description,
    m.Service.minimum_age,
    m.Service.maximum_age,
    m.Service.alert,
    m.Service.updated_at,
    m.Service.version,
)
_ORG_COLS = (
    m.Organization.name.label("org_name"),
    m.Organization.source_locale.label("org_source_locale"),
)
_ORG_DETAIL_COLS = (
    m.Organization.alternate_name.label("org_alternate_name"),
    m.Organization.description.label("org_description"),
    m.Organization.website.label("org_website"),
    m.Organization.email.label("org_email"),
    m.Organization.is_demo.label("org_is_demo"),
)
_LOCATION_COLS = (
    m.Location.id,
    m.Location.created_at,
    m.Location.privacy,
    m.Location.latitude,
    m.Location.longitude,
    m.Location.name,
    m.Location.source_locale,
    m.Location.description,
    m.Location.transportation,
    m.Location.place_id,
    m.Location.region_id,
    m.Location.timezone,
    m.Location.shelter_type,
    m.Location.capacity_maximum,
    m.Location.capacity_available,
    m.Location.capacity_updated,
    m.Location.has_heating,
    m.Location.has_power,
    m.Location.has_water,
    m.Location.has_internet,
    m.Location.has_toilets,
    m.Location.wheelchair_accessible,
    m.Location.pets_allowed,
    m.Location.women_children_only,
    m.Location.open_24_7,
)
_PHONE_COLS = (
    m.Phone.id,
    m.Phone.service_id,
    m.Phone.location_id,
    m.Phone.number,
    m.Phone.extension,
    m.Phone.type,
    m.Phone.description,
    m.Phone.is_hotline,
)
_SCHEDULE_COLS = (
    m.Schedule.service_id,
    m.Schedule.location_id,
    m.Schedule.service_at_location_id,
    m.Schedule.freq,
    m.Schedule.byday,
    m.Schedule.opens_at,
    m.Schedule.closes_at,
    m.Schedule.valid_from,
    m.Schedule.valid_to,
    m.Schedule.dtstart,
    m.Schedule.until,
)

_Rows = dict[uuid.UUID, list[Any]]


@dataclass(frozen=True, slots=True)
class _Address:
    id: uuid.UUID
    address_type: str
    address_1: str
    address_2: str | None
    postal_code: str
    city: str
    region: str | None
    state_province: str
    country: str


@dataclass
class _Loaded:
    ref: _Reference
    services: dict[uuid.UUID, Any]  # service rows (with org_* columns)
    locations: dict[uuid.UUID, list[tuple[uuid.UUID, Any]]]  # service → [(sal id, location)]
    addresses: _Rows  # by location
    service_phones: _Rows
    location_phones: _Rows
    service_schedules: _Rows
    location_schedules: _Rows
    sal_schedules: _Rows
    service_exceptions: _Rows
    location_exceptions: _Rows
    languages: _Rows  # by service
    attributes: dict[uuid.UUID, list[uuid.UUID]]  # service → term ids (position, code order)
    alternatives: dict[uuid.UUID, Any]
    documents: _Rows  # by service (detail only)
    accessibility: _Rows  # by location (detail only)
    tr: dict[tuple[str, uuid.UUID, str], str]
    #: the best translation of the fallback chain, where the reader's locale has none
    fb: dict[tuple[str, uuid.UUID, str], tuple[str, str]]


def _group(rows: Any, key: str) -> _Rows:
    out: _Rows = {}
    for row in rows:
        k = getattr(row, key)
        if k is not None:
            out.setdefault(k, []).append(row)
    return out


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


# Built once: executing a prepared statement skips building and caching it per request.
_SERVICES = (
    select(*_SERVICE_COLS, *_ORG_COLS)
    .join(m.Organization, m.Organization.id == m.Service.organization_id)
    .where(m.Service.id.in_(_ids("ids")))
)
_SERVICES_DETAIL = (
    select(*_SERVICE_COLS, *_ORG_COLS, *_DETAIL_COLS, *_ORG_DETAIL_COLS)
    .join(m.Organization, m.Organization.id == m.Service.organization_id)
    .where(m.Service.id.in_(_ids("ids")))
)
# A location's addresses come with it (left join: a location has one or two addresses).
_LOCATIONS = (
    select(
        m.ServiceAtLocation.id.label("sal_id"),
        m.ServiceAtLocation.service_id.label("sal_service_id"),
        *_LOCATION_COLS,
        m.Address.id.label("addr_id"),
        m.Address.address_type.label("addr_type"),
        m.Address.address_1.label("addr_address_1"),
        m.Address.address_2.label("addr_address_2"),
        m.Address.postal_code.label("addr_postal_code"),
        m.Address.city.label("addr_city"),
        m.Address.region.label("addr_region"),
        m.Address.state_province.label("addr_state_province"),
        m.Address.country.label("addr_country"),
    )
    .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
    .outerjoin(
        m.Address, and_(m.Address.location_id == m.Location.id, m.Address.archived_at.is_(None))
    )
    .where(
        m.ServiceAtLocation.service_id.in_(_ids("ids")),
        m.ServiceAtLocation.archived_at.is_(None),
        m.Location.archived_at.is_(None),
    )
)
_SERVICE_PHONES = select(*_PHONE_COLS).where(
    m.Phone.service_id.in_(_ids("ids")), m.Phone.archived_at.is_(None)
)
_LOCATION_PHONES = select(*_PHONE_COLS).where(
    m.Phone.location_id.in_(_ids("loc_ids")), m.Phone.archived_at.is_(None)
)
# Weekly schedules and dated exceptions in one statement (`kind` "s" or "e"; the columns the
# other kind lacks are NULL, typed so that both databases return dates and ids alike).
_SCHEDULES_AND_EXCEPTIONS: Any = union_all(
    select(
        literal_column("'s'").label("kind"),
        *_SCHEDULE_COLS,
        type_coerce(null(), m.ScheduleException.id.type).label("id"),
        type_coerce(null(), m.ScheduleException.date.type).label("date"),
        type_coerce(null(), m.ScheduleException.closed.type).label("closed"),
        type_coerce(null(), m.ScheduleException.reason.type).label("reason"),
        type_coerce(null(), m.ScheduleException.source_locale.type).label("source_locale"),
    ).where(
        or_(
            m.Schedule.service_id.in_(_ids("ids")),
            m.Schedule.location_id.in_(_ids("loc_ids")),
            m.Schedule.service_at_location_id.in_(_ids("sal_ids")),
        ),
        m.Schedule.archived_at.is_(None),
    ),
    select(
        literal_column("'e'"),
        m.ScheduleException.service_id,
        m.ScheduleException.location_id,
        null(),
        null(),
        null(),
        m.ScheduleException.opens_at,
        m.ScheduleException.closes_at,
        null(),
        null(),
        null(),
        null(),
        m.ScheduleException.id,
        m.ScheduleException.date,
        m.ScheduleException.closed,
        m.ScheduleException.reason,
        m.ScheduleException.source_locale,
    ).where(
        or_(
            m.ScheduleException.service_id.in_(_ids("ids")),
            m.ScheduleException.location_id.in_(_ids("loc_ids")),
        ),
        m.ScheduleException.archived_at.is_(None),
    ),
)
# Languages spoken ("l") and category links ("c") of the services, in one statement.
_LANGUAGES_AND_CATEGORIES: Any = union_all(
    select(
        literal_column("'l'").label("kind"),
        m.Language.service_id,
        m.Language.id,
        m.Language.code,
        m.Language.name,
        m.Language.note,
        type_coerce(null(), m.Attribute.taxonomy_term_id.type).label("term_id"),
    ).where(m.Language.service_id.in_(_ids("ids")), m.Language.archived_at.is_(None)),
    select(
        literal_column("'c'"),
        m.Attribute.link_id,
        null(),
        null(),
        null(),
        null(),
        m.Attribute.taxonomy_term_id,
    ).where(
        m.Attribute.link_entity == "service",
        m.Attribute.link_id.in_(_ids("ids")),
        m.Attribute.archived_at.is_(None),
    ),
)
_ALTERNATIVES = select(m.Service.id, m.Service.name, m.Service.source_locale).where(
    m.Service.id.in_(_ids("ids")), _visible()
)
_DOCUMENTS = select(
    m.RequiredDocument.id,
    m.RequiredDocument.service_id,
    m.RequiredDocument.document,
    m.RequiredDocument.uri,
).where(m.RequiredDocument.service_id.in_(_ids("ids")), m.RequiredDocument.archived_at.is_(None))
_ACCESSIBILITY = select(
    m.Accessibility.id, m.Accessibility.location_id, m.Accessibility.description
).where(m.Accessibility.location_id.in_(_ids("loc_ids")), m.Accessibility.archived_at.is_(None))


def _load(session: Session, ids: Sequence[uuid.UUID], *, locale: str, detail: bool) -> _Loaded:
    ref = _reference(session, locale)
    if not ids:
        return _Loaded(ref, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
    # `_reference` read the data version through the session, which flushed any pending
    # change (refcache.version), so the statements run on the session's connection, in the
    # same transaction, without the ORM's per-statement work.
    conn = session.connection()
    services = {
        row.id: row
        for row in conn.execute(_SERVICES_DETAIL if detail else _SERVICES, {"ids": list(ids)})
    }
    sids = list(services)
    locations: dict[uuid.UUID, list[tuple[uuid.UUID, Any]]] = {sid: [] for sid in sids}
    addresses: _Rows = {}
    seen_sal: set[uuid.UUID] = set()
    seen_addr: set[uuid.UUID] = set()
    for row in conn.execute(_LOCATIONS, {"ids": sids}):
        if row.sal_id not in seen_sal:
            seen_sal.add(row.sal_id)
            locations[row.sal_service_id].append((row.sal_id, row))
        if row.addr_id is not None and row.addr_id not in seen_addr:
            seen_addr.add(row.addr_id)
            addresses.setdefault(row.id, []).append(
                _Address(
                    row.addr_id,
                    row.addr_type,
                    row.addr_address_1,
                    row.addr_address_2,
                    row.addr_postal_code,
                    row.addr_city,
                    row.addr_region,
                    row.addr_state_province,
                    row.addr_country,
                )
            )
    for live in locations.values():
        live.sort(key=lambda p: (p[1].created_at, str(p[1].id)))
    loc_ids = list({loc.id for live in locations.values() for _sal, loc in live})
    sal_ids = [sal for live in locations.values() for sal, _loc in live]
    by_loc = {"loc_ids": loc_ids}
    service_phones = _group(conn.execute(_SERVICE_PHONES, {"ids": sids}), "service_id")
    location_phones = _group(
        conn.execute(_LOCATION_PHONES, by_loc) if loc_ids else [], "location_id"
    )
    schedules: list[Any] = []
    exceptions: list[Any] = []
    owners = {"ids": sids, "loc_ids": loc_ids, "sal_ids": sal_ids}
    for row in conn.execute(_SCHEDULES_AND_EXCEPTIONS, owners):
        (schedules if row.kind == "s" else exceptions).append(row)
    languages: _Rows = {}
    attributes: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in conn.execute(_LANGUAGES_AND_CATEGORIES, {"ids": sids}):
        if row.kind == "l":
            languages.setdefault(row.service_id, []).append(row)
            continue
        term = ref.terms.get(row.term_id)
        if term is not None and not term.archived:
            attributes.setdefault(row.service_id, []).append(row.term_id)
    for term_ids in attributes.values():
        term_ids.sort(key=lambda t: (ref.terms[t].position, ref.terms[t].code))
    alt_ids = list(
        {s.alternative_service_id for s in services.values() if s.alternative_service_id}
    )
    alternatives = {
        a.id: a for a in (conn.execute(_ALTERNATIVES, {"ids": alt_ids}) if alt_ids else [])
    }
    documents: _Rows = {}
    accessibility: _Rows = {}
    if detail:
        documents = _group(conn.execute(_DOCUMENTS, {"ids": sids}), "service_id")
        accessibility = _group(
            conn.execute(_ACCESSIBILITY, by_loc) if loc_ids else [], "location_id"
        )
    pairs: list[tuple[str, uuid.UUID]] = []
    for s in services.values():
        pairs += [("service", s.id), ("organization", s.organization_id)]
    pairs += [("location", i) for i in loc_ids]
    pairs += [
        ("phone", p.id) for v in (*service_phones.values(), *location_phones.values()) for p in v
    ]
    pairs += [("language", lang.id) for v in languages.values() for lang in v]
    pairs += [("schedule_exception", e.id) for e in exceptions]
    pairs += [("required_document", d.id) for v in documents.values() for d in v]
    pairs += [("accessibility", a.id) for v in accessibility.values() for a in v]
    pairs += [("service", a) for a in alternatives]
    tr, fb = load_texts(session, pairs=pairs, locale=locale)
    return _Loaded(
        ref=ref,
        services=services,
        locations=locations,
        addresses=addresses,
        service_phones=service_phones,
        location_phones=location_phones,
        service_schedules=_group(schedules, "service_id"),
        location_schedules=_group(schedules, "location_id"),
        sal_schedules=_group(schedules, "service_at_location_id"),
        service_exceptions=_group(exceptions, "service_id"),
        location_exceptions=_group(exceptions, "location_id"),
        languages=languages,
        attributes=attributes,
        alternatives=alternatives,
        documents=documents,
        accessibility=accessibility,
        tr=tr,
        fb=fb,
    )


def _tx(
    ld: _Loaded,
    entity_type: str,
    rid: uuid.UUID,
    name: str,
    value: str | None,
    source: str | None,
    locale: str,
) -> LocalText | None:
    key = (entity_type, rid, name)
    return resolve(
        value,
        source_locale=source,
        locale=locale,
        translated=ld.tr.get(key),
        fallback=ld.fb.get(key),
    )


def _text(ld: _Loaded, entity_type: str, record: Any, name: str, locale: str) -> LocalText | None:
    return _tx(
        ld,
        entity_type,
        record.id,
        name,
        getattr(record, name),
        getattr(record, "source_locale", None),
        locale,
    )


def _phone(ld: _Loaded, p: Any, locale: str) -> PhoneView:
    return PhoneView(
        p.number,
        p.extension,
        p.type,
        _text(ld, "phone", p, "description", locale),
        p.is_hotline,
        _tel(p.number, p.extension),
    )


def _status(ld: _Loaded, s: Any, now: dt.datetime, locale: str) -> StatusView:
    status = effective_status(s, now)
    temporary = status in _TEMPORARY
    alt = ld.alternatives.get(s.alternative_service_id) if s.alternative_service_id else None
    alt_ref = None
    if alt is not None and temporary:
        name = _text(ld, "service", alt, "name", locale)
        assert name is not None
        alt_ref = ServiceRef(alt.id, name)
    code = str(s.status_reason_code) if temporary and s.status_reason_code else None
    reason = _text(ld, "service", s, "status_reason", locale) if temporary else None
    if reason is None and code is not None:
        with use_locale(locale):
            label = reason_label(code)
        reason = LocalText(label, locale, False) if label else None
    return StatusView(
        str(status),
        temporary,
        reason,
        s.status_since if temporary else None,
        s.status_until if temporary else None,
        alt_ref,
        code,
    )


def _categories(ld: _Loaded, sid: uuid.UUID, locale: str) -> tuple[CategoryRef, ...]:
    refs = ld.ref.category_refs
    return tuple(refs[t] for t in ld.attributes.get(sid, ()))


def _location_view(
    ld: _Loaded,
    s: Any,
    sal_id: uuid.UUID,
    loc: Any,
    locale: str,
    now: dt.datetime,
) -> LocationView:
    pub = public_location_view(loc)
    address = None
    if pub.show_address:
        a = sorted(
            ld.addresses.get(loc.id, ()), key=lambda a: (a.address_type != "physical", str(a.id))
        )
        if a:
            first = a[0]
            street = pub.show_street_address
            address = AddressView(
                first.address_1 if street else None,
                first.address_2 if street else None,
                first.postal_code if street else None,
                first.city,
                first.region,
                first.state_province,
                first.country,
            )
    phones = ld.location_phones.get(loc.id, [])
    if pub.only_hotline_phones:
        phones = [p for p in phones if p.is_hotline]
    lat, lon = _fl(pub.latitude), _fl(pub.longitude)
    schedules = [
        *ld.service_schedules.get(s.id, ()),
        *ld.location_schedules.get(loc.id, ()),
        *ld.sal_schedules.get(sal_id, ()),
    ]
    exceptions = [*ld.location_exceptions.get(loc.id, ()), *ld.service_exceptions.get(s.id, ())]
    state = open_state(
        schedules=schedules,
        exceptions=exceptions,
        timezone=loc.timezone,
        open_24_7=loc.open_24_7,
        now=now,
    )
    # A temporarily closed service is not open now, whatever its hours say (as the filter).
    state = with_status(state, effective_status(s, now), s.status_until)
    place_refs = ld.ref.place_refs
    return LocationView(
        id=loc.id,
        privacy=str(loc.privacy),
        name=_text(ld, "location", loc, "name", locale) if pub.show_address else None,
        address=address,
        latitude=lat,
        longitude=lon,
        approximate=pub.approximate,
        city=place_refs.get(loc.place_id) if loc.place_id else None,
        region=place_refs.get(loc.region_id) if loc.region_id else None,
        timezone=loc.timezone,
        shelter_type=str(loc.shelter_type) if loc.shelter_type else None,
        capacity=Capacity(loc.capacity_maximum, loc.capacity_available, loc.capacity_updated),
        amenities=Amenities(
            loc.has_heating,
            loc.has_power,
            loc.has_water,
            loc.has_internet,
            loc.has_toilets,
            loc.wheelchair_accessible,
            loc.pets_allowed,
            loc.women_children_only,
            loc.open_24_7,
        ),
        open_during_alert=s.open_during_alert,
        transportation=_text(ld, "location", loc, "transportation", locale)
        if pub.show_directions
        else None,
        description=_text(ld, "location", loc, "description", locale)
        if pub.show_directions
        else None,
        accessibility=tuple(
            t
            for t in (
                _text(ld, "accessibility", a, "description", locale)
                for a in ld.accessibility.get(loc.id, ())
            )
            if t is not None
        )
        if pub.show_address
        else (),
        phones=tuple(_phone(ld, p, locale) for p in phones),
        open=state,
        geo_uri=f"geo:{lat},{lon}" if lat is not None and lon is not None else None,
        osm_url=(
            f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
            if lat is not None and lon is not None
            else None
        ),
        directions_url=(
            f"https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&route=%3B{lat}%2C{lon}"
            if lat is not None and lon is not None and not pub.approximate
            else None
        ),
    )


_CentreMap = dict[uuid.UUID, tuple[float, float]]


def _pick_location(
    views: list[LocationView],
    near: tuple[float, float] | None,
    wanted: set[uuid.UUID] | None,
    centres: _CentreMap,
) -> tuple[LocationView | None, float | None, bool]:
    """The location to show on a card (a matching one, the nearest with `near`), the distance
    to it and whether that distance is only to its city/region centre (confidential place)."""
    if not views:
        return None, None, False
    pool = [v for v in views if wanted is None or v.id in wanted] or views
    if near is None:
        return pool[0], None, False
    best: tuple[float, LocationView, bool] | None = None
    for v in pool:
        point, approx = _public_point(v, centres)
        if point is None:
            continue
        d = haversine_km(near, point)
        if best is None or d < best[0]:
            best = (d, v, approx)
    if best is None:
        return pool[0], None, False
    d, v, approx = best
    return v, (round(d) if approx or v.approximate else round(d, 1)), approx


def _public_point(v: LocationView, centres: _CentreMap) -> tuple[tuple[float, float] | None, bool]:
    """Where a distance is measured from: public coordinates, else (confidential) the centre of
    its city or region, so no distance reveals where a confidential place is."""
    if v.latitude is not None and v.longitude is not None:
        return (v.latitude, v.longitude), False
    if v.privacy == "confidential":
        return centres.get(v.id), True
    return None, False


def _cards(
    session: Session,
    ids: Sequence[uuid.UUID],
    *,
    params: SearchParams,
    now: dt.datetime,
    stale_after_days: int,
    loc: Sequence[ColumnElement[bool]],
) -> list[ServiceCard]:
    locale = params.locale
    ld = _load(session, ids, locale=locale, detail=False)
    centres = _centres(ld)
    wanted = _matching_locations(session, ids, loc)
    cards = []
    for sid in ids:
        s = ld.services.get(sid)
        if s is None:
            continue
        views = [_location_view(ld, s, sal, loc, locale, now) for sal, loc in ld.locations[sid]]
        loc_view, distance, approx = _pick_location(views, params.near, wanted.get(sid), centres)
        name = _text(ld, "service", s, "name", locale)
        assert name is not None
        summary = _text(ld, "service", s, "description", locale)
        org_name = _tx(
            ld, "organization", s.organization_id, "name", s.org_name, s.org_source_locale, locale
        )
        assert org_name is not None
        phones = tuple(_phone(ld, p, locale) for p in ld.service_phones.get(sid, ()))
        if loc_view is not None:
            phones += loc_view.phones
        cards.append(
            ServiceCard(
                id=s.id,
                name=name,
                alternate_name=_text(ld, "service", s, "alternate_name", locale),
                summary=summary,
                organization_id=s.organization_id,
                organization_name=org_name,
                status=_status(ld, s, now, locale),
                categories=_categories(ld, sid, locale),
                location=loc_view,
                location_count=len(views),
                distance_km=distance,
                distance_approximate=approx,
                open=loc_view.open if loc_view else None,
                phones=phones,
                languages=tuple(sorted({lang.code for lang in ld.languages.get(sid, ())})),
                free_of_charge=s.free_of_charge,
                audience=tuple(s.audience.split()) if s.audience else (),
                last_verified=s.assured_date,
                stale=_is_stale(s.assured_date, now, stale_after_days),
                is_demo=s.is_demo,
                fallback=name.fallback or bool(summary and summary.fallback),
            )
        )
    return cards


def _centres(ld: _Loaded) -> _CentreMap:
    """City (else region) centre of each confidential location, to measure distance from."""
    out: _CentreMap = {}
    places = ld.ref.places
    for pairs in ld.locations.values():
        for _sal, loc in pairs:
            for pid in (loc.place_id, loc.region_id):
                p = places.get(pid) if pid else None
                if p is not None and p.latitude is not None and p.longitude is not None:
                    out.setdefault(loc.id, (p.latitude, p.longitude))
    return out


def _matching_locations(
    session: Session, ids: Sequence[uuid.UUID], conds: Sequence[ColumnElement[bool]]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each service of the page, its locations that meet the location filters (one query)."""
    if not ids or not conds:
        return {}
    rows = session.execute(
        select(m.ServiceAtLocation.service_id, m.Location.id)
        .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
        .join(m.Service, m.Service.id == m.ServiceAtLocation.service_id)
        .where(m.ServiceAtLocation.service_id.in_(list(ids)), *conds)
    ).all()
    out: dict[uuid.UUID, set[uuid.UUID]] = {}
    for sid, lid in rows:
        out.setdefault(sid, set()).add(lid)
    return out


# --- the service page ---------------------------------------------------------------------------


def get_service_detail(
    session: Session,
    service_id: uuid.UUID,
    *,
    locale: str,
    now: dt.datetime,
    stale_after_days: int,
) -> ServiceDetail | None:
    """Everything a reader may see about one service; None if it does not exist or is archived."""
    ld = _load(session, [service_id], locale=locale, detail=True)
    s = ld.services.get(service_id)
    if s is None or s.archived_at is not None:
        return None
    views = [_location_view(ld, s, sal, loc, locale, now) for sal, loc in ld.locations[s.id]]
    first_sal, first = ld.locations[s.id][0] if ld.locations[s.id] else (None, None)
    schedules = [
        *ld.service_schedules.get(s.id, ()),
        *(ld.location_schedules.get(first.id, ()) if first is not None else ()),
        *(ld.sal_schedules.get(first_sal, ()) if first_sal is not None else ()),
    ]
    local_today = now.astimezone(zone(first.timezone if first is not None else None)).date()
    exceptions = sorted(
        (
            e
            for e in (
                *(ld.location_exceptions.get(first.id, ()) if first is not None else ()),
                *ld.service_exceptions.get(s.id, ()),
            )
            if e.date >= local_today
        ),
        key=lambda e: e.date,
    )
    name = _text(ld, "service", s, "name", locale)
    assert name is not None
    org_id = s.organization_id
    org_source = s.org_source_locale

    def org_text(fieldname: str, value: str | None) -> LocalText | None:
        return _tx(ld, "organization", org_id, fieldname, value, org_source, locale)

    org_name = org_text("name", s.org_name)
    assert org_name is not None
    description = _text(ld, "service", s, "description", locale)
    phones = tuple(_phone(ld, p, locale) for p in ld.service_phones.get(s.id, ()))
    for v in views:
        phones += tuple(p for p in v.phones if p not in phones)
    return ServiceDetail(
        id=s.id,
        name=name,
        alternate_name=_text(ld, "service", s, "alternate_name", locale),
        description=description,
        organization=OrganizationView(
            org_id,
            org_name,
            org_text("alternate_name", s.org_alternate_name),
            org_text("description", s.org_description),
            s.org_website,
            s.org_email,
            s.org_is_demo,
        ),
        status=_status(ld, s, now, locale),
        alert=_text(ld, "service", s, "alert", locale),
        categories=_categories(ld, s.id, locale),
        locations=tuple(views),
        hours=tuple(weekly_hours(schedules, on=local_today)),
        exceptions=tuple(
            ExceptionView(
                e.date,
                e.opens_at is None or e.closes_at is None,
                e.opens_at,
                e.closes_at,
                _text(ld, "schedule_exception", e, "reason", locale),
            )
            for e in exceptions[:14]
        ),
        open=views[0].open if views else None,
        phones=phones,
        languages=tuple(
            LanguageView(lang.code, lang.name, _text(ld, "language", lang, "note", locale))
            for lang in sorted(ld.languages.get(s.id, ()), key=lambda x: x.code)
        ),
        eligibility=_text(ld, "service", s, "eligibility_description", locale),
        required_documents=tuple(
            DocumentView(t, d.uri)
            for d in ld.documents.get(s.id, ())
            for t in [_text(ld, "required_document", d, "document", locale)]
            if t is not None
        ),
        fees=_text(ld, "service", s, "fees_description", locale),
        free_of_charge=s.free_of_charge,
        application_process=_text(ld, "service", s, "application_process", locale),
        interpretation_services=_text(ld, "service", s, "interpretation_services", locale),
        audience=tuple(s.audience.split()) if s.audience else (),
        minimum_age=s.minimum_age,
        maximum_age=s.maximum_age,
        url=s.url,
        email=s.email,
        open_during_alert=s.open_during_alert,
        last_verified=s.assured_date,
        stale=_is_stale(s.assured_date, now, stale_after_days),
        updated_at=s.updated_at,
        is_demo=s.is_demo,
        fallback=name.fallback or bool(description and description.fallback),
        version=s.version,
    )


# --- reference data cached per process (keyed on the data version) ------------------------------


@dataclass(frozen=True, slots=True)
class _PlaceRow:
    id: uuid.UUID
    code: str | None
    kind: str
    parent_id: uuid.UUID | None
    latitude: float | None
    longitude: float | None
    timezone: str | None
    archived: bool


def _zone_above(places: dict[uuid.UUID, _PlaceRow], place_id: uuid.UUID | None) -> str | None:
    """The time zone of a place, or of the nearest place above it that names one."""
    seen: set[uuid.UUID] = set()
    cur = places.get(place_id) if place_id else None
    while cur is not None and cur.id not in seen:
        if cur.timezone:
            return cur.timezone
        seen.add(cur.id)
        cur = places.get(cur.parent_id) if cur.parent_id else None
    return None


@dataclass(frozen=True, slots=True)
class _TermRow:
    id: uuid.UUID
    code: str
    parent_id: uuid.UUID | None
    position: int
    icon: str | None
    archived: bool


@dataclass(frozen=True)
class _Reference:
    """The gazetteer, the category tree and the notices, labelled in one locale."""

    places: dict[uuid.UUID, _PlaceRow]  # every place, archived ones too (old locations)
    place_refs: dict[uuid.UUID, PlaceRef]
    place_views: tuple[PlaceView, ...]  # `list_places`
    terms: dict[uuid.UUID, _TermRow]
    category_refs: dict[uuid.UUID, CategoryRef]
    categories: tuple[CategoryView, ...]  # `list_categories`
    notices: tuple[tuple[NoticeView, uuid.UUID | None], ...]  # not archived, any validity


def _reference(session: Session, locale: str) -> _Reference:
    return refcache.cached(
        session, "reference", (locale,), lambda: _build_reference(session, locale)
    )


def _build_reference(session: Session, locale: str) -> _Reference:
    place_rows = session.execute(
        select(
            m.Place.id,
            m.Place.code,
            m.Place.kind,
            m.Place.parent_id,
            m.Place.name,
            m.Place.source_locale,
            m.Place.latitude,
            m.Place.longitude,
            m.Place.timezone,
            m.Place.archived_at,
        )
    ).all()
    term_rows = session.execute(
        select(
            m.TaxonomyTerm.id,
            m.TaxonomyTerm.code,
            m.TaxonomyTerm.parent_id,
            m.TaxonomyTerm.name,
            m.TaxonomyTerm.description,
            m.TaxonomyTerm.language,
            m.TaxonomyTerm.position,
            m.TaxonomyTerm.icon,
            m.TaxonomyTerm.archived_at,
        )
    ).all()
    notice_rows = session.execute(
        select(
            m.Notice.id,
            m.Notice.region_id,
            m.Notice.severity,
            m.Notice.title,
            m.Notice.body,
            m.Notice.source_locale,
            m.Notice.valid_from,
            m.Notice.valid_until,
            m.Notice.is_demo,
            m.Notice.kind,
        ).where(m.Notice.archived_at.is_(None))
    ).all()
    pairs: list[tuple[str, uuid.UUID]] = [("place", p.id) for p in place_rows]
    pairs += [("taxonomy_term", t.id) for t in term_rows]
    pairs += [("notice", n.id) for n in notice_rows]
    tr, fb = load_texts(session, pairs=pairs, locale=locale)

    places: dict[uuid.UUID, _PlaceRow] = {}
    place_refs: dict[uuid.UUID, PlaceRef] = {}
    views: list[PlaceView] = []
    for p in sorted(place_rows, key=lambda p: p.name):
        name = resolve(
            p.name,
            source_locale=p.source_locale,
            locale=locale,
            translated=tr.get(("place", p.id, "name")),
            fallback=fb.get(("place", p.id, "name")),
        )
        assert name is not None
        lat, lon = _fl(p.latitude), _fl(p.longitude)
        places[p.id] = _PlaceRow(
            p.id, p.code, str(p.kind), p.parent_id, lat, lon, p.timezone, p.archived_at is not None
        )
        place_refs[p.id] = PlaceRef(p.id, p.code, str(p.kind), name)
        if p.archived_at is None:
            views.append(
                PlaceView(p.id, p.code, str(p.kind), name, p.parent_id, lat, lon, p.timezone)
            )
    views.sort(key=lambda v: (v.kind != "country", v.kind != "region", v.name.value.casefold()))

    def label(t: Any, fieldname: str = "name") -> LocalText | None:
        return resolve(
            getattr(t, fieldname),
            source_locale=t.language or DEFAULT_SOURCE_LOCALE,
            locale=locale,
            translated=tr.get(("taxonomy_term", t.id, fieldname)),
            fallback=fb.get(("taxonomy_term", t.id, fieldname)),
        )

    terms = {
        t.id: _TermRow(t.id, t.code, t.parent_id, t.position, t.icon, t.archived_at is not None)
        for t in term_rows
    }
    category_refs: dict[uuid.UUID, CategoryRef] = {}
    for t in term_rows:
        parent = terms.get(t.parent_id) if t.parent_id else None
        category_refs[t.id] = CategoryRef(
            t.id,
            t.code,
            label(t) or LocalText(t.code, DEFAULT_SOURCE_LOCALE, True),
            t.icon,
            parent.code if parent else None,
        )
    by_parent: dict[uuid.UUID | None, list[Any]] = {}
    for t in sorted(term_rows, key=lambda t: (t.position, t.code)):
        if t.archived_at is None:
            by_parent.setdefault(t.parent_id, []).append(t)

    def build(term: Any, depth: int) -> CategoryView:
        kids = () if depth > 8 else tuple(build(c, depth + 1) for c in by_parent.get(term.id, []))
        return CategoryView(
            term.id,
            term.code,
            category_refs[term.id].label,
            label(term, "description"),
            term.icon,
            term.position,
            kids,
        )

    categories = tuple(build(t, 0) for t in by_parent.get(None, []))

    notices = []
    for n in notice_rows:
        title = resolve(
            n.title,
            source_locale=n.source_locale,
            locale=locale,
            translated=tr.get(("notice", n.id, "title")),
            fallback=fb.get(("notice", n.id, "title")),
        )
        assert title is not None
        body = resolve(
            n.body,
            source_locale=n.source_locale,
            locale=locale,
            translated=tr.get(("notice", n.id, "body")),
            fallback=fb.get(("notice", n.id, "body")),
        )
        live_region = n.region_id in places and not places[n.region_id].archived
        region = place_refs[n.region_id] if live_region else None  # archived: none
        view = NoticeView(
            n.id,
            str(n.severity),
            title,
            body,
            region,
            n.valid_from,
            n.valid_until,
            n.is_demo,
            str(n.kind),
            _zone_above(places, n.region_id) if live_region else None,
        )
        notices.append((view, n.region_id))
    return _Reference(
        places=places,
        place_refs=place_refs,
        place_views=tuple(views),
        terms=terms,
        category_refs=category_refs,
        categories=categories,
        notices=tuple(notices),
    )
