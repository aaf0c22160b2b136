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
    db: Session, *, name: str = "Test Oblast", kind: PlaceKind = PlaceKind.region,
    parent: Place | None = None, code: str | None = None,
) -> Place:
    place = Place(kind=kind, name=name, parent_id=parent.id if parent else None,
                  code=code or f"T-{uuid.uuid4().hex[:8]}")
    db.add(place)
    db.flush()
    return place


def make_account(
    db: Session, role: str = "volunteer", regions: list[Place] | None = None, *,
    email: str | None = None, trusted: bool = False, password: str = PASSWORD,
) -> Account:
    from directory.accounts.service import create_account

    return create_account(
        db, email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org", password=password,
        role=role, region_ids=[p.id for p in regions or []], trusted=trusted,
    )


def make_token(db: Session, account: Account, **kwargs: Any) -> str:
    """A bearer token secret for `account`."""
    from directory.accounts.service import create_token

    return create_token(db, account=account, **kwargs).secret


def make_listing(
    db: Session, *, region: Place | None = None, name: str = "Test shelter",
    capacity_maximum: int | None = 40, capacity_available: int | None = 10,
    phone: str | None = "+380441234567", privacy: str = "exact",
) -> tuple[Service, Location]:
    """A published organisation + service at one location (with a phone), in `region`."""
    org = Organization(name=f"{name} organisation", is_demo=True)
    db.add(org)
    db.flush()
    svc = Service(organization_id=org.id, name=name, description="A test listing", is_demo=True)
    loc = Location(
        organization_id=org.id, name=name, latitude=Decimal("50.45"), longitude=Decimal("30.52"),
        region_id=region.id if region else None, capacity_maximum=capacity_maximum,
        capacity_available=capacity_available, privacy=privacy, is_demo=True,
    )
    db.add_all([svc, loc])
    db.flush()
    db.add(ServiceAtLocation(service_id=svc.id, location_id=loc.id))
    if phone:
        db.add(Phone(location_id=loc.id, service_id=svc.id, number=phone))
    db.flush()
    return svc, loc
