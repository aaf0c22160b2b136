"""The data model: Open Referral HSDS 3 tables (singular names, HSDS column names) plus the
extensions crisis work needs. Every extension column or table is marked `# ext:` and documented
in docs/data-model.md; exports map them to clearly named extra fields or HSDS attributes.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.db import Base, Entity, utcnow

# --- enumerations (stored as strings, validated by CHECK constraints) -------------------------


class StrEnum(str, enum.Enum):
    _value_: str

    def __str__(self) -> str:
        return self.value


class ServiceStatus(StrEnum):
    """HSDS 3 service.status values plus `full` (ext)."""

    active = "active"
    inactive = "inactive"
    defunct = "defunct"
    temporarily_closed = "temporarily closed"
    full = "full"  # ext


class ClosureReason(StrEnum):
    """ext: a one-tap reason for a temporary status, shown in each reader's language
    (labels: `directory.listings.reasons`)."""

    alert = "alert"  # air-raid alert
    power = "power"  # power cut
    staff = "staff"  # no staff on duty
    supplies = "supplies"  # out of supplies
    repairs = "repairs"
    damage = "damage"  # damaged by shelling


class Privacy(StrEnum):
    """ext: how much of a location's whereabouts the public may see."""

    exact = "exact"
    approximate = "approximate"  # coordinates rounded to ~1 km, no street address
    confidential = "confidential"  # region and contact channel only


class ShelterType(StrEnum):
    """ext: what kind of place a location is, when it is a shelter or a point."""

    air_raid_shelter = "air_raid_shelter"
    collective_centre = "collective_centre"
    emergency_accommodation = "emergency_accommodation"
    warming_point = "warming_point"
    charging_point = "charging_point"


class PlaceKind(StrEnum):
    country = "country"
    region = "region"
    city = "city"


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    danger = "danger"


class NoticeKind(StrEnum):
    """What a notice is about (readers see it named in their language; feeds map to it)."""

    general = "general"
    alert = "alert"  # air-raid alert
    blackout = "blackout"  # power cut
    water = "water"  # water outage
    evacuation = "evacuation"


def _enum(cls: type[StrEnum], name: str) -> Enum:
    # native_enum=False + a named CHECK keeps SQLite and PostgreSQL identical and easy to migrate.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


# --- reference tables -------------------------------------------------------------------------


class Locale(Base):
    """ext: content locales a text may be written in. Unknown codes are refused by foreign key."""

    __tablename__ = "locale"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))  # endonym, e.g. "Українська"
    direction: Mapped[str] = mapped_column(String(3), default="ltr")

    __table_args__ = (CheckConstraint("direction IN ('ltr', 'rtl')", name="direction"),)


class Translation(Base):
    """ext: a reader-facing text of any record in one locale.

    The record's own column holds the text in its `source_locale`; this table holds the others.
    Readers get the requested locale, else the source locale (marked as such).
    """

    __tablename__ = "translation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    field: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(ForeignKey("locale.code"))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "field", "locale"),
        Index("ix_translation_entity", "entity_type", "entity_id"),
    )


class Place(Entity):
    """ext: the directory's own gazetteer of countries, regions and cities.

    Used for the region/city picker, region scopes of volunteers and notices, and cross-script
    search: `aliases` holds every known spelling ("Kyiv Kiev Київ Киев Kijów Kiew").
    """

    __tablename__ = "place"

    kind: Mapped[PlaceKind] = mapped_column(_enum(PlaceKind, "place_kind"))
    code: Mapped[str | None] = mapped_column(
        String(16), unique=True
    )  # ISO 3166-1/2 where it exists
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source_locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")
    aliases: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    timezone: Mapped[str | None] = mapped_column(String(64))

    parent: Mapped[Place | None] = relationship(remote_side="Place.id", lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude"
        ),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude"
        ),
    )


# --- HSDS core --------------------------------------------------------------------------------


class Organization(Entity):
    __tablename__ = "organization"

    name: Mapped[str] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    legal_status: Mapped[str | None] = mapped_column(String(200))
    source_locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")  # ext
    is_demo: Mapped[bool] = mapped_column(default=False)  # ext: fictional demo data
    external_source: Mapped[str | None] = mapped_column(String(100))  # ext: import matching
    external_id: Mapped[str | None] = mapped_column(String(200))  # ext

    services: Mapped[list[Service]] = relationship(back_populates="organization", lazy="raise")
    locations: Mapped[list[Location]] = relationship(back_populates="organization", lazy="raise")

    __table_args__ = (UniqueConstraint("external_source", "external_id"),)


class Service(Entity):
    __tablename__ = "service"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[ServiceStatus] = mapped_column(
        _enum(ServiceStatus, "service_status"), default=ServiceStatus.active
    )
    interpretation_services: Mapped[str | None] = mapped_column(Text)
    application_process: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    alert: Mapped[str | None] = mapped_column(Text)
    # Verification (HSDS assured_date / assurer_email), kept apart from updated_at.
    assured_date: Mapped[dt.datetime | None] = mapped_column(index=True)
    assurer_email: Mapped[str | None] = mapped_column(String(254))
    source_locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")  # ext
    # ext: crisis status. A temporary status (temporarily closed / full with an `until`) expires
    # by itself: readers see `effective_status`, which falls back to `active` after status_until.
    status_reason: Mapped[str | None] = mapped_column(Text)
    # ext: the reason as a code (shown in each reader's language); status_reason: own words
    status_reason_code: Mapped[ClosureReason | None] = mapped_column(
        _enum(ClosureReason, "closure_reason")
    )
    status_since: Mapped[dt.datetime | None] = mapped_column()
    status_until: Mapped[dt.datetime | None] = mapped_column()
    alternative_service_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL")
    )
    open_during_alert: Mapped[bool | None] = mapped_column(Boolean)  # ext
    free_of_charge: Mapped[bool | None] = mapped_column(Boolean)  # ext: filterable "free"
    # ext: who is served, space-separated codes (any_nationality children women elderly ...)
    audience: Mapped[str] = mapped_column(String(300), default="")
    external_source: Mapped[str | None] = mapped_column(String(100))  # ext
    external_id: Mapped[str | None] = mapped_column(String(200))  # ext
    is_demo: Mapped[bool] = mapped_column(default=False)  # ext

    organization: Mapped[Organization] = relationship(back_populates="services", lazy="raise")
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", lazy="raise"
    )
    phones: Mapped[list[Phone]] = relationship(
        primaryjoin="Phone.service_id == Service.id", lazy="raise", viewonly=True
    )
    languages: Mapped[list[Language]] = relationship(
        primaryjoin="Language.service_id == Service.id", lazy="raise", viewonly=True
    )
    schedules: Mapped[list[Schedule]] = relationship(
        primaryjoin="Schedule.service_id == Service.id", lazy="raise", viewonly=True
    )
    required_documents: Mapped[list[RequiredDocument]] = relationship(lazy="raise", viewonly=True)
    attributes: Mapped[list[Attribute]] = relationship(
        primaryjoin="and_(Attribute.link_id == Service.id, Attribute.link_type == 'service')",
        foreign_keys="Attribute.link_id",
        lazy="raise",
        viewonly=True,
    )
    alternative_service: Mapped[Service | None] = relationship(
        remote_side="Service.id", lazy="raise"
    )

    __table_args__ = (
        UniqueConstraint("external_source", "external_id"),
        CheckConstraint(
            "status_until IS NULL OR status_since IS NULL OR status_until > status_since",
            name="status_until_after_since",
        ),
        CheckConstraint("minimum_age IS NULL OR minimum_age >= 0", name="minimum_age"),
        CheckConstraint(
            "maximum_age IS NULL OR minimum_age IS NULL OR maximum_age >= minimum_age",
            name="age_range",
        ),
        Index("ix_service_status", "status"),
    )


class Location(Entity):
    __tablename__ = "location"

    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    location_type: Mapped[str] = mapped_column(String(20), default="physical")
    url: Mapped[str | None] = mapped_column(String(500))
    name: Mapped[str | None] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    transportation: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    external_identifier: Mapped[str | None] = mapped_column(String(200))
    external_identifier_type: Mapped[str | None] = mapped_column(String(100))
    source_locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")  # ext
    # ext: where and how public
    place_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"), index=True)
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Kyiv")
    privacy: Mapped[Privacy] = mapped_column(_enum(Privacy, "privacy"), default=Privacy.exact)
    # ext: shelter and point facts (capacity uses HSDS 3.1 service_capacity names)
    shelter_type: Mapped[ShelterType | None] = mapped_column(_enum(ShelterType, "shelter_type"))
    capacity_maximum: Mapped[int | None] = mapped_column(Integer)
    capacity_available: Mapped[int | None] = mapped_column(Integer)
    capacity_updated: Mapped[dt.datetime | None] = mapped_column()
    has_heating: Mapped[bool | None] = mapped_column(Boolean)
    has_power: Mapped[bool | None] = mapped_column(Boolean)  # generator / power / charging
    has_water: Mapped[bool | None] = mapped_column(Boolean)
    has_internet: Mapped[bool | None] = mapped_column(Boolean)
    has_toilets: Mapped[bool | None] = mapped_column(Boolean)
    wheelchair_accessible: Mapped[bool | None] = mapped_column(Boolean)
    pets_allowed: Mapped[bool | None] = mapped_column(Boolean)
    women_children_only: Mapped[bool | None] = mapped_column(Boolean)
    open_24_7: Mapped[bool | None] = mapped_column(Boolean)
    external_source: Mapped[str | None] = mapped_column(String(100))  # ext
    external_id: Mapped[str | None] = mapped_column(String(200))  # ext
    is_demo: Mapped[bool] = mapped_column(default=False)  # ext

    organization: Mapped[Organization | None] = relationship(
        back_populates="locations", lazy="raise"
    )
    place: Mapped[Place | None] = relationship(foreign_keys=[place_id], lazy="raise")
    region: Mapped[Place | None] = relationship(foreign_keys=[region_id], lazy="raise")
    addresses: Mapped[list[Address]] = relationship(back_populates="location", lazy="raise")
    phones: Mapped[list[Phone]] = relationship(
        primaryjoin="Phone.location_id == Location.id", lazy="raise", viewonly=True
    )
    schedules: Mapped[list[Schedule]] = relationship(
        primaryjoin="Schedule.location_id == Location.id", lazy="raise", viewonly=True
    )
    schedule_exceptions: Mapped[list[ScheduleException]] = relationship(lazy="raise", viewonly=True)
    accessibility: Mapped[list[Accessibility]] = relationship(lazy="raise", viewonly=True)

    __table_args__ = (
        UniqueConstraint("external_source", "external_id"),
        CheckConstraint(
            "latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude"
        ),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude"
        ),
        CheckConstraint(
            "capacity_maximum IS NULL OR capacity_maximum >= 0", name="capacity_maximum"
        ),
        CheckConstraint(
            "capacity_available IS NULL OR capacity_available >= 0", name="capacity_available"
        ),
        CheckConstraint(
            "capacity_available IS NULL OR capacity_maximum IS NULL"
            " OR capacity_available <= capacity_maximum",
            name="capacity_available_le_maximum",
        ),
        CheckConstraint("location_type IN ('physical', 'postal', 'virtual')", name="location_type"),
        Index("ix_location_lat_lon", "latitude", "longitude"),
        Index("ix_location_place_id_privacy", "place_id", "privacy"),
        Index("ix_location_region_id_privacy", "region_id", "privacy"),
    )


class ServiceAtLocation(Entity):
    __tablename__ = "service_at_location"

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="service_at_locations", lazy="raise")
    location: Mapped[Location] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("service_id", "location_id"),)


class Address(Entity):
    __tablename__ = "address"

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"), index=True)
    attention: Mapped[str | None] = mapped_column(String(200))
    address_1: Mapped[str] = mapped_column(String(300))
    address_2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    state_province: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2))
    address_type: Mapped[str] = mapped_column(String(20), default="physical")

    location: Mapped[Location] = relationship(back_populates="addresses", lazy="raise")

    __table_args__ = (
        CheckConstraint("address_type IN ('physical', 'postal', 'virtual')", name="address_type"),
        CheckConstraint("length(country) = 2", name="country"),
    )


class Contact(Entity):
    __tablename__ = "contact"

    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organization.id"))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service.id"), index=True)
    service_at_location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service_at_location.id")
    )
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))


class Phone(Entity):
    __tablename__ = "phone"

    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), index=True)
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service.id"), index=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organization.id"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id"))
    service_at_location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service_at_location.id")
    )
    number: Mapped[str] = mapped_column(String(40))  # E.164 where it can be
    extension: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(
        String(20)
    )  # text, voice, fax, cell, video, pager, textphone
    description: Mapped[str | None] = mapped_column(Text)
    is_hotline: Mapped[bool] = mapped_column(
        default=False
    )  # ext: shown even for confidential places


def owner_indexes(table: str, *columns: str) -> tuple[Index, ...]:
    """Indexes on a record's optional owner columns (a schedule belongs to a service, a location
    or a service-at-location): only the rows that have that owner. A plain index counts all the
    NULLs too, so SQLite's ANALYZE saw e.g. "20,509 rows per key" for a column no schedule used,
    priced the OR of the three owner lookups above a full scan, and scanned the schedule table
    once per listing for "open now" (9 s instead of 0.8 s at 20,000 services)."""
    return tuple(
        Index(
            f"ix_{table}_{column}",
            column,
            sqlite_where=text(f"{column} IS NOT NULL"),
            postgresql_where=text(f"{column} IS NOT NULL"),
        )
        for column in columns
    )


class Schedule(Entity):
    """HSDS 3 schedule (RFC 5545 style). Weekly opening hours use freq=WEEKLY, byday, opens_at,
    closes_at; times are wall-clock times in the location's IANA time zone (`timezone`)."""

    __tablename__ = "schedule"

    # Indexed below, partially: "open now" looks schedules up by each owner column.
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    service_at_location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service_at_location.id")
    )
    valid_from: Mapped[dt.date | None] = mapped_column()
    valid_to: Mapped[dt.date | None] = mapped_column()
    dtstart: Mapped[dt.date | None] = mapped_column()
    timezone: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[dt.date | None] = mapped_column()
    count: Mapped[int | None] = mapped_column(Integer)
    wkst: Mapped[str | None] = mapped_column(String(2))
    freq: Mapped[str | None] = mapped_column(String(10))
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(40))
    byweekno: Mapped[str | None] = mapped_column(String(40))
    bymonthday: Mapped[str | None] = mapped_column(String(40))
    byyearday: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    opens_at: Mapped[dt.time | None] = mapped_column(Time)
    closes_at: Mapped[dt.time | None] = mapped_column(Time)
    schedule_link: Mapped[str | None] = mapped_column(String(500))
    attending_type: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("freq IS NULL OR freq IN ('WEEKLY', 'MONTHLY')", name="freq"),
        CheckConstraint(
            "service_id IS NOT NULL OR location_id IS NOT NULL "
            "OR service_at_location_id IS NOT NULL",
            name="has_owner",
        ),
        *owner_indexes("schedule", "service_id", "location_id", "service_at_location_id"),
    )


class ScheduleException(Entity):
    """ext: a dated exception to the weekly hours (holiday, one-day closure, special hours),
    in the location's time zone. `closed` with no times = closed all day."""

    __tablename__ = "schedule_exception"

    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service.id"))
    date: Mapped[dt.date] = mapped_column()
    closed: Mapped[bool] = mapped_column(default=True)
    opens_at: Mapped[dt.time | None] = mapped_column(Time)
    closes_at: Mapped[dt.time | None] = mapped_column(Time)
    reason: Mapped[str | None] = mapped_column(Text)
    source_locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")

    __table_args__ = (
        CheckConstraint("service_id IS NOT NULL OR location_id IS NOT NULL", name="has_owner"),
        *owner_indexes("schedule_exception", "location_id", "service_id"),
    )


class Language(Entity):
    __tablename__ = "language"

    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service.id"), index=True)
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    phone_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("phone.id"))
    name: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(12), index=True)  # ISO 639 / BCP 47
    note: Mapped[str | None] = mapped_column(Text)


class Accessibility(Entity):
    __tablename__ = "accessibility"

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))


class RequiredDocument(Entity):
    __tablename__ = "required_document"

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service.id"), index=True)
    document: Mapped[str] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(String(500))


class Taxonomy(Entity):
    __tablename__ = "taxonomy"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str | None] = mapped_column(String(500))
    taxonomy_version: Mapped[str | None] = mapped_column("version_label", String(50))


class TaxonomyTerm(Entity):
    __tablename__ = "taxonomy_term"

    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("taxonomy_term.id"), index=True)
    taxonomy: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(12))
    taxonomy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("taxonomy.id"))
    term_uri: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)  # ext: order on the home page
    icon: Mapped[str | None] = mapped_column(String(40))  # ext: inline SVG icon name


class Attribute(Entity):
    """HSDS attribute: links a taxonomy term (category) to a service or other record."""

    __tablename__ = "attribute"

    link_id: Mapped[uuid.UUID] = mapped_column()
    taxonomy_term_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("taxonomy_term.id"), index=True)
    link_type: Mapped[str | None] = mapped_column(String(50))
    link_entity: Mapped[str] = mapped_column(String(50))
    value: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(200))

    taxonomy_term: Mapped[TaxonomyTerm] = relationship(lazy="raise")

    __table_args__ = (
        Index("ix_attribute_link", "link_entity", "link_id"),
        UniqueConstraint("link_entity", "link_id", "taxonomy_term_id"),
    )


class Notice(Entity):
    """ext: a regional notice ("air-raid alert: go to shelter"), title and body per locale.

    `region_id` None: nationwide. Times are stored in UTC and shown in the region's zone
    (nationwide: the directory's `DIRECTORY_TIMEZONE`)."""

    __tablename__ = "notice"

    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(
        _enum(NoticeKind, "notice_kind"), default=NoticeKind.general, server_default="general"
    )
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"), default=Severity.info)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    source_locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")
    valid_from: Mapped[dt.datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[dt.datetime | None] = mapped_column()
    is_demo: Mapped[bool] = mapped_column(default=False)

    region: Mapped[Place | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "valid_until IS NULL OR valid_until > valid_from", name="valid_until_after_from"
        ),
    )


class ServiceSearch(Base):
    """ext: the denormalised search document of one service (all translations, organisation,
    categories, places and their aliases), folded to a script-independent search key. Indexed
    by FTS5 on SQLite and by tsvector + pg_trgm on PostgreSQL (see directory/search)."""

    __tablename__ = "service_search"

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text, default="")
    # Filter tokens (categories with their ancestors, places with theirs, amenities, languages,
    # free): the static filters become index lookups, apart from the reader's words.
    facets: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A stable pseudo-random order within a relevance tier (= the FTS5 rowid on SQLite).
    sort_key: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- what changed since: `updated_at` indexes (HSDS API `modified_after`, directory.hsds_api) ---
#: The tables a service's record nests; an incremental sync asks each what changed after a time.
SYNC_TABLES = (
    Organization, Service, Location, ServiceAtLocation, Address, Phone, Schedule,
    ScheduleException, Language, Accessibility, RequiredDocument, Attribute, Translation,
)  # fmt: skip
for _model in SYNC_TABLES:
    Index(f"ix_{_model.__tablename__}_updated_at", _model.__table__.c.updated_at)


# Registers the data-version hook (every flush that changes public data gives a new token).
from directory.listings import generation as _generation  # noqa: E402,F401
