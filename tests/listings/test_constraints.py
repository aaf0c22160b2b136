"""What must never be stored is refused by the database itself, on every backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from directory.listings.models import Location, Organization, Service, Translation


def _org(db: Session) -> Organization:
    org = Organization(name="Demo org")
    db.add(org)
    db.flush()
    return org


def _refused(db: Session, obj: object, constraint: str) -> None:
    db.add(obj)
    with pytest.raises((IntegrityError, StatementError)) as err:
        db.flush()
    db.rollback()
    assert constraint in str(err.value).lower()


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"capacity_maximum": 10, "capacity_available": 11}, "capacity_available_le_maximum"),
        ({"capacity_available": -1}, "capacity_available"),
        ({"capacity_maximum": -5}, "capacity_maximum"),
        ({"latitude": Decimal("91")}, "latitude"),
        ({"longitude": Decimal("-181")}, "longitude"),
    ],
)
def test_location_refuses_impossible_facts(db: Session, fields: dict, constraint: str) -> None:
    _refused(db, Location(name="Shelter", **fields), constraint)


def test_status_until_must_follow_since(db: Session) -> None:
    org = _org(db)
    now = dt.datetime.now(dt.UTC)
    _refused(
        db,
        Service(
            organization_id=org.id,
            name="X",
            status_since=now,
            status_until=now - dt.timedelta(hours=1),
        ),
        "status_until_after_since",
    )


def test_unknown_locale_refused(db: Session) -> None:
    org = _org(db)
    _refused(
        db,
        Translation(
            entity_type="organization", entity_id=org.id, field="name", locale="xx", value="?"
        ),
        "foreign key",
    )


def test_unknown_status_refused(db: Session) -> None:
    org = _org(db)
    with pytest.raises((LookupError, StatementError, ValueError)):
        db.add(Service(organization_id=org.id, name="X", status="burning"))
        db.flush()
    db.rollback()


def test_valid_location_is_stored_with_version_and_utc_timestamps(db: Session) -> None:
    loc = Location(
        name="Shelter",
        capacity_maximum=10,
        capacity_available=10,
        latitude=Decimal("50.45"),
        longitude=Decimal("30.52"),
    )
    db.add(loc)
    db.flush()
    assert loc.version == 1
    loc.capacity_available = 3
    db.flush()
    db.refresh(loc)
    assert loc.version == 2
    assert loc.created_at.tzinfo is not None and loc.created_at.utcoffset() == dt.timedelta(0)
