"""A small, fictional dataset with every kind of record the exports carry: one organisation,
an exact, an approximate and a confidential place, phones (one hotline), weekly hours, languages,
a required document, accessibility notes, categories, a translation and dated schedule
exceptions (of a service and of a place)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from directory.listings.models import (
    Accessibility,
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    Phone,
    Place,
    PlaceKind,
    Privacy,
    RequiredDocument,
    Schedule,
    ScheduleException,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    ShelterType,
    TaxonomyTerm,
    Translation,
)

SECRET_STREET = "7 Hidden Lane"
SECRET_LAT = Decimal("49.842957")
SECRET_LON = Decimal("24.031111")
APPROX_LAT = Decimal("50.456789")
APPROX_LON = Decimal("30.523456")


@dataclass
class Dataset:
    org: Organization
    exact: Service
    approx: Service
    confidential: Service
    exact_loc: Location
    approx_loc: Location
    secret_loc: Location
    terms: dict[str, TaxonomyTerm]
    region: Place
    city: Place


def _term(db: Session, code: str, name: str, parent: TaxonomyTerm | None = None) -> TaxonomyTerm:
    from sqlalchemy import select

    existing = db.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == code)).first()
    if existing is not None:
        return existing
    term = TaxonomyTerm(
        code=code,
        name=name,
        description="",
        taxonomy="aid-directory",
        parent_id=parent.id if parent else None,
    )
    db.add(term)
    db.flush()
    return term


def make_dataset(db: Session, *, tag: str = "") -> Dataset:
    tag = tag or uuid.uuid4().hex[:6]
    country = db.query(Place).filter(Place.code == "UA").first() or Place(
        kind=PlaceKind.country, code="UA", name="Ukraine"
    )
    db.add(country)
    db.flush()
    region = Place(
        kind=PlaceKind.region, code=f"UA-T{tag}", name=f"Test Oblast {tag}", parent_id=country.id
    )
    db.add(region)
    db.flush()
    city = Place(
        kind=PlaceKind.city,
        code=f"UA-T{tag}-C",
        name=f"Testopil {tag}",
        parent_id=region.id,
        timezone="Europe/Kyiv",
    )
    db.add(city)
    db.flush()
    shelter = _term(db, "shelter", "Shelter")
    terms = {
        "shelter": shelter,
        "shelter.air-raid": _term(db, "shelter.air-raid", "Air-raid shelter", shelter),
        "food": _term(db, "food", "Food"),
    }
    org = Organization(
        name=f"Fictional Relief {tag}",
        description="Demo organisation, fictional.",
        email="info@relief.example.org",
        website="https://relief.example.org",
        is_demo=True,
    )
    db.add(org)
    db.flush()
    verified = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    exact = Service(
        organization_id=org.id,
        name=f"Warm meals {tag}",
        description="Hot food =SUM(A1) every day",
        status=ServiceStatus.active,
        url="https://relief.example.org/meals",
        email="meals@relief.example.org",
        assured_date=verified,
        free_of_charge=True,
        open_during_alert=False,
        audience="any_nationality children",
        is_demo=True,
        minimum_age=0,
        maximum_age=120,
    )
    approx = Service(
        organization_id=org.id,
        name=f"Basement shelter {tag}",
        description="Air-raid shelter",
        status=ServiceStatus.full,
        status_since=verified,
        status_until=dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1),
        status_reason="No free places tonight",
        is_demo=True,
    )
    confidential = Service(
        organization_id=org.id,
        name=f"Safe house {tag}",
        description="For women and children",
        status=ServiceStatus.active,
        is_demo=True,
    )
    db.add_all([exact, approx, confidential])
    db.flush()
    exact_loc = Location(
        organization_id=org.id,
        name=f"Community hall {tag}",
        latitude=Decimal("50.401234"),
        longitude=Decimal("30.612345"),
        place_id=city.id,
        region_id=region.id,
        privacy=Privacy.exact,
        description="Entrance from the yard",
        has_heating=True,
        has_power=True,
        wheelchair_accessible=True,
        is_demo=True,
    )
    approx_loc = Location(
        organization_id=org.id,
        name=f"School basement {tag}",
        latitude=APPROX_LAT,
        longitude=APPROX_LON,
        place_id=city.id,
        region_id=region.id,
        privacy=Privacy.approximate,
        shelter_type=ShelterType.air_raid_shelter,
        capacity_maximum=120,
        capacity_available=0,
        transportation="Tram 5 to the school",
        is_demo=True,
    )
    secret_loc = Location(
        organization_id=org.id,
        name=f"Safe house {tag}",
        latitude=SECRET_LAT,
        longitude=SECRET_LON,
        place_id=city.id,
        region_id=region.id,
        privacy=Privacy.confidential,
        women_children_only=True,
        description="Blue door",
        is_demo=True,
    )
    db.add_all([exact_loc, approx_loc, secret_loc])
    db.flush()
    db.add_all(
        [
            ServiceAtLocation(service_id=exact.id, location_id=exact_loc.id),
            ServiceAtLocation(service_id=approx.id, location_id=approx_loc.id),
            ServiceAtLocation(service_id=confidential.id, location_id=secret_loc.id),
            Address(
                location_id=exact_loc.id,
                address_1="1 Main Street",
                city=city.name,
                region=region.name,
                postal_code="01001",
                country="UA",
            ),
            Address(
                location_id=approx_loc.id,
                address_1="12 School Street",
                city=city.name,
                postal_code="01002",
                country="UA",
            ),
            Address(
                location_id=secret_loc.id,
                address_1=SECRET_STREET,
                city=city.name,
                postal_code="79000",
                country="UA",
            ),
            Phone(service_id=exact.id, number="+380441234567", type="voice"),
            Phone(location_id=approx_loc.id, number="+380441111111", type="voice"),
            Phone(location_id=secret_loc.id, number="+380800123456", type="voice", is_hotline=True),
            Phone(location_id=secret_loc.id, number="+380442222222", type="voice"),
            Schedule(
                service_id=exact.id,
                freq="WEEKLY",
                byday="MO,TU,WE,TH,FR",
                opens_at=dt.time(9, 0),
                closes_at=dt.time(18, 0),
                timezone="Europe/Kyiv",
            ),
            Schedule(
                service_id=exact.id,
                freq="WEEKLY",
                byday="SA",
                opens_at=dt.time(10, 0),
                closes_at=dt.time(14, 0),
                timezone="Europe/Kyiv",
            ),
            ScheduleException(
                service_id=exact.id, date=dt.date(2026, 12, 25), closed=True, reason="Holiday"
            ),
            Language(service_id=exact.id, code="uk", name="Ukrainian"),
            Language(service_id=exact.id, code="en", name="English"),
            RequiredDocument(
                service_id=exact.id,
                document="Passport or ID card",
                uri="https://relief.example.org/documents",
            ),
            Accessibility(
                location_id=exact_loc.id,
                description="Step-free entrance from the yard",
                details="Ramp, wide door",
            ),
            ScheduleException(
                location_id=exact_loc.id,
                date=dt.date(2026, 12, 31),
                closed=False,
                opens_at=dt.time(10, 0),
                closes_at=dt.time(14, 0),
                reason="Short day",
            ),
            Attribute(
                link_id=exact.id,
                link_type="category",
                link_entity="service",
                taxonomy_term_id=terms["food"].id,
            ),
            Attribute(
                link_id=approx.id,
                link_type="category",
                link_entity="service",
                taxonomy_term_id=terms["shelter.air-raid"].id,
            ),
            Attribute(
                link_id=confidential.id,
                link_type="category",
                link_entity="service",
                taxonomy_term_id=terms["shelter"].id,
            ),
            Translation(
                entity_type="service",
                entity_id=exact.id,
                field="name",
                locale="uk",
                value=f"Гаряче харчування {tag}",
            ),
        ]
    )
    db.flush()
    return Dataset(
        org, exact, approx, confidential, exact_loc, approx_loc, secret_loc, terms, region, city
    )
