"""Small factories shared by the tests (add yours; keep each one short)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.listings.models import (
    Location,
    Organization,
    Phone,
    Place,
    PlaceKind,
    Service,
    ServiceAtLocation,
)

PASSWORD = "correct horse battery staple"


def make_place(
    db: Session,
    *,
    name: str = "Test Oblast",
    kind: PlaceKind = PlaceKind.region,
    parent: Place | None = None,
    code: str | None = None,
) -> Place:
    place = Place(
        kind=kind,
        name=name,
        parent_id=parent.id if parent else None,
        code=code or f"T-{uuid.uuid4().hex[:8]}",
    )
    db.add(place)
    db.flush()
    return place


def make_account(
    db: Session,
    role: str = "volunteer",
    regions: list[Place] | None = None,
    *,
    email: str | None = None,
    trusted: bool = False,
    password: str = PASSWORD,
) -> Account:
    from directory.accounts.service import create_account, hash_password

    if password not in _HASHES:  # Argon2id is slow on purpose: hash each test password once
        _HASHES[password] = hash_password(password)
    return create_account(
        db,
        email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
        password=password,
        role=role,
        region_ids=[p.id for p in regions or []],
        trusted=trusted,
        password_hash=_HASHES[password],
    )


_HASHES: dict[str, str] = {}


def make_token(db: Session, account: Account, **kwargs: Any) -> str:
    """A bearer token secret for `account`."""
    from directory.accounts.service import create_token

    return create_token(db, account=account, **kwargs).secret


def make_listing(
    db: Session,
    *,
    region: Place | None = None,
    name: str = "Test shelter",
    capacity_maximum: int | None = 40,
    capacity_available: int | None = 10,
    phone: str | None = "+380441234567",
    privacy: str = "exact",
) -> tuple[Service, Location]:
    """A published organisation + service at one location (with a phone), in `region`."""
    org = Organization(name=f"{name} organisation", is_demo=True)
    db.add(org)
    db.flush()
    svc = Service(organization_id=org.id, name=name, description="A test listing", is_demo=True)
    loc = Location(
        organization_id=org.id,
        name=name,
        latitude=Decimal("50.45"),
        longitude=Decimal("30.52"),
        region_id=region.id if region else None,
        capacity_maximum=capacity_maximum,
        capacity_available=capacity_available,
        privacy=privacy,
        is_demo=True,
    )
    db.add_all([svc, loc])
    db.flush()
    db.add(ServiceAtLocation(service_id=svc.id, location_id=loc.id))
    if phone:
        db.add(Phone(location_id=loc.id, service_id=svc.id, number=phone))
    db.flush()
    return svc, loc


# --- search / read path (search engineer) -------------------------------------------------------


def make_city(
    db: Session,
    *,
    name: str,
    aliases: str = "",
    region: Place | None = None,
    lat: str | None = None,
    lon: str | None = None,
    tz: str = "Europe/Kyiv",
) -> Place:
    """A city (or, without `region`, a region) of the gazetteer with its spellings."""
    place = Place(
        kind=PlaceKind.city if region else PlaceKind.region,
        name=name,
        aliases=aliases,
        parent_id=region.id if region else None,
        code=f"T-{uuid.uuid4().hex[:8]}",
        latitude=Decimal(lat) if lat else None,
        longitude=Decimal(lon) if lon else None,
        timezone=tz,
    )
    db.add(place)
    db.flush()
    return place


def make_service(
    db: Session,
    *,
    name: str = "Test service",
    description: str = "",
    org_name: str = "Test org",
    city: Place | None = None,
    region: Place | None = None,
    lat: str | None = "50.45",
    lon: str | None = "30.52",
    privacy: str = "exact",
    street: str | None = None,
    address_city: str | None = None,
    tz: str = "Europe/Kyiv",
    locations: int = 1,
    service_fields: dict[str, Any] | None = None,
    location_fields: dict[str, Any] | None = None,
) -> Service:
    """An organisation + service at `locations` locations, with an optional street address."""
    from directory.listings.models import Address

    org = Organization(name=org_name, is_demo=True)
    db.add(org)
    db.flush()
    svc = Service(
        organization_id=org.id,
        name=name,
        description=description,
        is_demo=True,
        **(service_fields or {}),
    )
    db.add(svc)
    db.flush()
    for _ in range(locations):
        loc = Location(
            organization_id=org.id,
            name=f"{name} site",
            latitude=Decimal(lat) if lat else None,
            longitude=Decimal(lon) if lon else None,
            place_id=city.id if city else None,
            region_id=region.id if region else (city.parent_id if city else None),
            privacy=privacy,
            timezone=tz,
            is_demo=True,
            **(location_fields or {}),
        )
        db.add(loc)
        db.flush()
        db.add(ServiceAtLocation(service_id=svc.id, location_id=loc.id))
        if street or address_city:
            db.add(
                Address(
                    location_id=loc.id,
                    address_1=street or "",
                    city=address_city or "",
                    country="UA",
                )
            )
    db.flush()
    return svc


def make_term(
    db: Session,
    *,
    code: str,
    name: str,
    parent: Any = None,
    labels: dict[str, str] | None = None,
) -> Any:
    """A taxonomy term (category) with labels in other locales."""
    from directory.listings.models import TaxonomyTerm, Translation

    term = TaxonomyTerm(code=code, name=name, parent_id=parent.id if parent else None)
    db.add(term)
    db.flush()
    for locale, label in (labels or {}).items():
        db.add(
            Translation(
                entity_type="taxonomy_term",
                entity_id=term.id,
                field="name",
                locale=locale,
                value=label,
            )
        )
    db.flush()
    return term


def categorise(db: Session, service: Service, *terms: Any) -> None:
    """Put `service` in these categories (HSDS attribute rows)."""
    from directory.listings.models import Attribute

    for term in terms:
        db.add(
            Attribute(
                link_id=service.id,
                link_type="service",
                link_entity="service",
                taxonomy_term_id=term.id,
            )
        )
    db.flush()


def translate(db: Session, entity: Any, field: str, locale: str, value: str) -> None:
    """A translation of `entity.field` (entity type = its table name)."""
    from directory.listings.models import Translation

    db.add(
        Translation(
            entity_type=entity.__tablename__,
            entity_id=entity.id,
            field=field,
            locale=locale,
            value=value,
        )
    )
    db.flush()


def first_location(db: Session, service: Service) -> Location:
    from sqlalchemy import select

    return db.scalars(
        select(Location)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(ServiceAtLocation.service_id == service.id)
        .order_by(Location.created_at)
    ).first()  # type: ignore[return-value]
