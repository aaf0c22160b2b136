"""A small, fixed set of listings for the public page tests (fictional, marked demo)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from directory.listings.models import (
    Address,
    Notice,
    Phone,
    Schedule,
    Service,
    Severity,
)
from tests.factories import (
    categorise,
    first_location,
    make_city,
    make_service,
    make_term,
    translate,
)


@dataclass
class Seed:
    region: Any
    city: Any
    warming: Service
    closed: Service
    confidential: Service
    consulate: Service
    notice: Notice


def seed(db: Session, *, now: dt.datetime | None = None) -> Seed:
    now = now or dt.datetime.now(dt.UTC)
    region = make_city(
        db, name="Kharkiv Oblast", aliases="Харківська область", lat="49.99", lon="36.23"
    )
    translate(db, region, "name", "uk", "Харківська область")
    city = make_city(
        db,
        name="Kharkiv",
        aliases="Харків Харьков Charków",
        region=region,
        lat="49.99",
        lon="36.23",
    )
    translate(db, city, "name", "uk", "Харків")
    translate(db, city, "name", "ar", "خاركيف")
    heat = make_term(
        db,
        code="heat-power",
        name="Heat & power",
        labels={"uk": "Тепло і світло", "ar": "التدفئة والكهرباء"},
    )
    warm = make_term(
        db,
        code="heat-power.warming",
        name="Warming point",
        parent=heat,
        labels={"uk": "Пункт обігріву", "ar": "نقطة تدفئة"},
    )
    shelter = make_term(db, code="shelter", name="Shelter", labels={"uk": "Прихисток"})
    consular = make_term(db, code="consular", name="Consulates", labels={"ar": "القنصليات"})

    warming = make_service(
        db,
        name="Warming point School 12",
        description="Hot tea, heating, a generator.",
        city=city,
        lat="49.99",
        lon="36.23",
        street="vul. Demo 1",
        address_city="Kharkiv",
        service_fields={
            "assured_date": now - dt.timedelta(hours=2),
            "free_of_charge": True,
            "audience": "any_nationality children",
        },
        location_fields={
            "has_heating": True,
            "has_power": True,
            "has_water": True,
            "open_24_7": True,
            "capacity_maximum": 50,
            "capacity_available": 12,
            "capacity_updated": now - dt.timedelta(hours=1),
            "shelter_type": "warming_point",
            "wheelchair_accessible": True,
        },
    )
    translate(db, warming, "name", "uk", "Пункт обігріву, школа 12")
    loc = first_location(db, warming)
    db.add(Phone(service_id=warming.id, number="+380 57 000 0012"))
    categorise(db, warming, warm)

    closed = make_service(
        db,
        name="Day shelter Metro",
        city=city,
        lat="50.00",
        lon="36.25",
        service_fields={
            "status": "temporarily closed",
            "status_reason": "air-raid alert",
            "status_since": now - dt.timedelta(hours=1),
            "status_until": now + dt.timedelta(hours=3),
            "alternative_service_id": warming.id,
            "assured_date": now - dt.timedelta(days=3),
        },
    )
    categorise(db, closed, shelter)

    confidential = make_service(
        db,
        name="Safe house for women",
        city=city,
        privacy="confidential",
        street="Secret street 7",
        address_city="Kharkiv",
        service_fields={"assured_date": now - dt.timedelta(days=1)},
        location_fields={"women_children_only": True},
    )
    db.add(
        Phone(
            location_id=first_location(db, confidential).id,
            number="+380 800 000 777",
            is_hotline=True,
        )
    )
    db.add(Phone(location_id=first_location(db, confidential).id, number="+380 57 999 9999"))
    categorise(db, confidential, shelter)

    consulate = make_service(
        db,
        name="Consular section (demo)",
        city=city,
        lat="49.98",
        lon="36.20",
        service_fields={
            "status": "temporarily closed",
            "status_reason": "overnight strike",
            "status_until": now + dt.timedelta(hours=20),
            "alternative_service_id": warming.id,
            "assured_date": now,
        },
    )
    categorise(db, consulate, consular)
    db.add(
        Schedule(
            location_id=loc.id,
            freq="WEEKLY",
            byday="MO,TU,WE,TH,FR",
            opens_at=dt.time(8),
            closes_at=dt.time(20),
        )
    )
    notice = Notice(
        region_id=region.id,
        severity=Severity.danger,
        title="Air-raid alert",
        body="Go to the nearest shelter.",
        valid_from=now - dt.timedelta(minutes=5),
        valid_until=now + dt.timedelta(hours=2),
        is_demo=True,
    )
    db.add(notice)
    db.flush()
    translate(db, notice, "title", "uk", "Повітряна тривога")
    _ = (Address, Decimal)
    from directory.search.index import reindex_services

    reindex_services(db, [warming.id, closed.id, confidential.id, consulate.id])
    db.flush()
    return Seed(region, city, warming, closed, confidential, consulate, notice)
