"""What a reader may see of the directory, as frozen dataclasses, already redacted by the
read path (`listings.cards`, `listings.reference`): adapters only format them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from directory.listings.hours import DayHours, OpenState
from directory.listings.texts import LocalText


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
