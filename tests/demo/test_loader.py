"""The demo dataset loads on both backends and shows every situation of the mission."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.config import UI_LOCALES
from directory.db import utcnow
from directory.demo.loader import demo_id, load_demo
from directory.listings import models as m
from directory.listings.hours import zone
from directory.listings.places import place_id
from directory.listings.queries import SearchParams, notices_in_force, search_services


@pytest.fixture()
def demo(db: Session) -> dict[str, int]:
    return load_demo(db)


def test_every_situation_of_the_mission_is_there(db: Session, demo: dict[str, int]) -> None:
    # One load, many checks: loading is the slow part.
    _everything_is_marked_demo_and_fictional(db, demo)
    _temporarily_closed_consulate_with_reason_until_today_and_alternative(db, demo)
    _full_shelter_and_confidential_women_children_shelter(db, demo)
    _shelters_points_stale_fresh_schedules(db, demo)
    _languages_and_translations(db, demo)


def test_counts_and_idempotence(db: Session, demo: dict[str, int]) -> None:
    assert 250 <= demo["services"] <= 350
    assert demo["locations"] == demo["services"]
    assert demo["organizations"] >= 20 and demo["notices"] >= 3
    assert load_demo(db) == demo  # a second load adds nothing


def _everything_is_marked_demo_and_fictional(db: Session, demo: dict[str, int]) -> None:
    for model in (m.Organization, m.Service, m.Location, m.Notice):
        assert (
            db.scalar(select(func.count()).select_from(model).where(model.is_demo.is_(False))) == 0
        )
    for (name,) in db.execute(select(m.Organization.name)):
        assert re.match(r"(Demo|Демо|تجريبي)", name), name
    for desc, locale in db.execute(select(m.Service.description, m.Service.source_locale)):
        assert re.search(r"Demo|Демо|Dane demonstracyjne|Demodaten|تجريبية", desc), (locale, desc)
    for (number,) in db.execute(select(m.Phone.number)):
        # fictional ranges only: Ukrainian "000 0xxx", Berlin's 030 23125 range, "000" elsewhere
        assert number.startswith("+493023125") or "000" in number[4:], number


def _temporarily_closed_consulate_with_reason_until_today_and_alternative(
    db: Session, demo: dict[str, int]
) -> None:
    now = utcnow()
    closed = db.scalars(
        select(m.Service).where(m.Service.status == m.ServiceStatus.temporarily_closed)
    ).all()
    consulate = next(
        s
        for s in closed
        if "Odesa"
        in (
            s.name
            + str(
                db.scalar(
                    select(m.Translation.value).where(
                        m.Translation.entity_id == s.id,
                        m.Translation.field == "name",
                        m.Translation.locale == "en",
                    )
                )
            )
        )
    )
    assert consulate.status_since is not None and consulate.status_until is not None
    assert consulate.status_since < now < consulate.status_until
    tz = zone("Europe/Kyiv")
    assert consulate.status_until - now < dt.timedelta(hours=4) or (
        consulate.status_until.astimezone(tz).date() == now.astimezone(tz).date()
    )
    reasons = dict(
        db.execute(
            select(m.Translation.locale, m.Translation.value).where(
                m.Translation.entity_id == consulate.id, m.Translation.field == "status_reason"
            )
        ).all()
    )
    assert consulate.status_reason and consulate.source_locale == "ar"
    assert {"en", "uk"} <= set(reasons)
    alternative = db.get(m.Service, consulate.alternative_service_id)
    assert alternative is not None and alternative.status == m.ServiceStatus.active
    terms = set(
        db.scalars(
            select(m.TaxonomyTerm.code)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == alternative.id)
        )
    )
    assert "consular" in terms


def _full_shelter_and_confidential_women_children_shelter(
    db: Session, demo: dict[str, int]
) -> None:
    full = db.scalars(select(m.Service).where(m.Service.status == m.ServiceStatus.full)).all()
    assert full
    loc = db.scalar(
        select(m.Location)
        .join(m.ServiceAtLocation)
        .where(m.ServiceAtLocation.service_id == full[0].id)
    )
    assert loc is not None and loc.capacity_available == 0 and loc.capacity_maximum

    conf = db.scalars(select(m.Location).where(m.Location.privacy == m.Privacy.confidential)).all()
    assert conf and all(c.women_children_only for c in conf)
    for c in conf:
        sid = db.scalar(
            select(m.ServiceAtLocation.service_id).where(m.ServiceAtLocation.location_id == c.id)
        )
        hotlines = db.scalars(
            select(m.Phone).where(m.Phone.service_id == sid, m.Phone.is_hotline.is_(True))
        ).all()
        assert hotlines
        assert (
            db.scalar(
                select(func.count()).select_from(m.Address).where(m.Address.location_id == c.id)
            )
            == 1
        )
    assert (
        db.scalar(
            select(func.count())
            .select_from(m.Location)
            .where(m.Location.privacy == m.Privacy.approximate)
        )
        > 0
    )


def _shelters_points_stale_fresh_schedules(db: Session, demo: dict[str, int]) -> None:
    now = utcnow()
    L = m.Location
    shelters = db.scalars(select(L).where(L.shelter_type == m.ShelterType.air_raid_shelter)).all()
    assert shelters and all(
        s.capacity_maximum and s.capacity_updated
        for s in shelters
        if s.capacity_available is not None
    )
    warming = db.scalars(
        select(L).where(
            L.shelter_type == m.ShelterType.warming_point,
            L.has_power.is_(True),
            L.has_heating.is_(True),
        )
    ).all()
    assert len(warming) >= 3
    assert db.scalar(
        select(func.count()).select_from(L).where(L.shelter_type == m.ShelterType.charging_point)
    )
    stale = db.scalar(
        select(func.count())
        .select_from(m.Service)
        .where(m.Service.assured_date < now - dt.timedelta(days=30))
    )
    fresh = db.scalar(
        select(func.count())
        .select_from(m.Service)
        .where(m.Service.assured_date > now - dt.timedelta(hours=6))
    )
    assert stale and fresh
    assert db.scalar(select(func.count()).select_from(L).where(L.open_24_7.is_(True)))
    weekly = db.scalars(select(m.Schedule).where(m.Schedule.freq == "WEEKLY")).all()
    assert weekly and all(s.byday and s.opens_at and s.closes_at for s in weekly)
    exceptions = db.scalars(select(m.ScheduleException)).all()
    assert any(e.closed for e in exceptions) and any(
        not e.closed and e.opens_at for e in exceptions
    )
    assert db.scalar(select(func.count()).select_from(m.RequiredDocument))
    assert db.scalar(
        select(func.count()).select_from(m.Service).where(m.Service.audience.contains("children"))
    )


def _languages_and_translations(db: Session, demo: dict[str, int]) -> None:
    sources = set(db.scalars(select(m.Service.source_locale).distinct()))
    assert {"uk", "en", "pl", "de", "ru", "ar"} <= sources | set(
        db.scalars(select(m.Translation.locale).distinct())
    )
    assert {"uk", "pl", "de", "ru", "ar"} <= sources
    translated = set(
        db.scalars(
            select(m.Translation.locale).where(m.Translation.entity_type == "service").distinct()
        )
    )
    assert set(UI_LOCALES) <= translated | sources
    assert {"uk", "ar", "en"} <= set(db.scalars(select(m.Language.code).distinct()))


def test_notices_and_scenarios_through_the_read_path(db: Session, demo: dict[str, int]) -> None:
    now = utcnow()
    dnipro = notices_in_force(db, locale="uk", place_id=place_id("dnipro"), now=now)
    assert any(n.severity == "danger" for n in dnipro)
    kharkiv = notices_in_force(db, locale="en", place_id=place_id("kharkiv"), now=now)
    assert kharkiv
    odesa = notices_in_force(db, locale="ar", place_id=place_id("odesa"), now=now)
    assert odesa
    # Scenario 1: warming points in Kharkiv, open now, with a generator and water.
    r = search_services(
        db,
        SearchParams(
            category="heat-power.warming",
            place="kharkiv",
            open_now=True,
            power=True,
            water=True,
            locale="uk",
            now=now,
        ),
        stale_after_days=30,
    )
    assert r.total >= 3
    # Scenario 3: beds tonight in Chișinău for a family with a dog.
    r = search_services(
        db,
        SearchParams(place="chisinau", has_capacity=True, pets=True, locale="uk", now=now),
        stale_after_days=30,
    )
    assert r.total >= 1
    # Cross-script search through the gazetteer aliases.
    assert search_services(db, SearchParams(q="Lemberg", now=now), stale_after_days=30).total > 0
    assert db.get(m.Service, demo_id("service:odesa:consular")) is not None


def test_demo_status_and_capacity_never_contradict(db: Session, demo: dict[str, int]) -> None:
    """Issue 12 §4: no demo listing is "full" with free places; the one-tap reason is a code."""
    contradictions = db.scalars(
        select(m.Service.name)
        .join(m.ServiceAtLocation, m.ServiceAtLocation.service_id == m.Service.id)
        .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
        .where(m.Service.status == m.ServiceStatus.full, m.Location.capacity_available > 0)
    ).all()
    assert contradictions == []
    charging = db.get(m.Service, demo_id("service:lviv:charging:1"))
    assert charging is not None and charging.status_reason_code == "power"
    assert charging.status_reason is None
