"""The gazetteer: codes, names in every locale, aliases across scripts, idempotent seeding."""

from __future__ import annotations

import zoneinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.config import UI_LOCALES
from directory.listings import models as m
from directory.listings.places import (
    CITIES,
    GAZETTEER,
    PLACES_BY_CODE,
    country_of,
    ensure_places,
    place_id,
)
from directory.listings.texts import texts_for

REQUIRED_CITIES = {
    "kyiv",
    "kharkiv",
    "odesa",
    "lviv",
    "dnipro",
    "zaporizhzhia",
    "mykolaiv",
    "kherson",
    "chernihiv",
    "sumy",
    "poltava",
    "vinnytsia",
    "ivano-frankivsk",
    "uzhhorod",
    "warsaw",
    "krakow",
    "przemysl",
    "berlin",
    "chisinau",
    "prague",
    "bucharest",
    "budapest",
}


def test_required_places_and_shape() -> None:
    for code in ("UA", "PL", "DE", "MD", "RO", "CZ", "SK", "HU", "UA-30", "UA-63", "UA-12"):
        assert code in PLACES_BY_CODE
    assert {c.code for c in CITIES} >= REQUIRED_CITIES
    assert PLACES_BY_CODE["kyiv"].parent == "UA-30"
    assert country_of("chisinau") == "MD"
    for p in GAZETTEER:
        assert set(p.names) == set(UI_LOCALES) and all(p.names.values()), p.code
        zoneinfo.ZoneInfo(p.timezone)
        assert len(p.code) <= 16
        if p.kind is m.PlaceKind.city:
            assert p.latitude is not None and p.longitude is not None
            assert 40 < p.latitude < 56 and 9 < p.longitude < 40, p.code


def test_aliases_hold_every_spelling_in_every_script() -> None:
    expected = {
        "kyiv": "Kyiv Kiev Kyyiv Київ Киев Kijów Kiew Kijev كييف",
        "lviv": "Lviv Lvov Львів Львов Lwów Lemberg لفيف",
        "kharkiv": "Kharkiv Kharkov Харків Харьков Charków Charkiw خاركيف",
        "odesa": "Odesa Odessa Одеса Одесса",
        "dnipro": "Dnipro Dnepr Dnipropetrovsk Дніпро Днепр",
        "chisinau": "Chișinău Chisinau Kishinev Кишинів Кишинёв",
        "warsaw": "Warsaw Warszawa Варшава Warschau وارسو",
    }
    for code, words in expected.items():
        aliases = PLACES_BY_CODE[code].aliases.split()
        for word in words.split():
            assert word in aliases, (code, word)


def test_ensure_places_is_idempotent_and_translated(db: Session) -> None:
    ensure_places(db)
    ensure_places(db)
    count = db.scalar(
        select(func.count()).select_from(m.Place).where(m.Place.code.in_(list(PLACES_BY_CODE)))
    )
    assert count == len(GAZETTEER)
    kyiv = db.get(m.Place, place_id("kyiv"))
    assert kyiv is not None and kyiv.version == 1
    assert kyiv.kind is m.PlaceKind.city and kyiv.parent_id == place_id("UA-30")
    assert kyiv.timezone == "Europe/Kyiv" and "Київ" in kyiv.aliases
    assert float(kyiv.latitude or 0) == 50.4501
    names = texts_for(db, entity_type="place", ids=[kyiv.id], fields=["name"], locale="pl")
    assert names[(kyiv.id, "name")].value == "Kijów"
    region = db.get(m.Place, place_id("UA-63"))
    assert region is not None and region.parent_id == place_id("UA")
