"""Free-text search across scripts, spellings, case, diacritics, prefixes and typos, on both
databases; and what must never be findable (a confidential street)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from directory.listings.models import Place, Service
from directory.listings.queries import SearchParams, search_services
from directory.search.index import reindex_all, reindex_services
from tests.factories import categorise, make_city, make_service, make_term, translate

NOW = dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC)


@dataclass
class World:
    kyiv: Place
    lviv: Place
    warm: Service
    kitchen: Service
    centre: Service
    secret: Service


@pytest.fixture()
def world(db: Session) -> World:
    kyiv_region = make_city(db, name="Kyiv Oblast", aliases="Київська область Kyivska oblast")
    kyiv = make_city(
        db,
        name="Kyiv",
        region=kyiv_region,
        lat="50.45",
        lon="30.52",
        aliases="Kyiv Kiev Київ Киев Kijów Kiew Kyjiw",
    )
    lviv_region = make_city(db, name="Lviv Oblast", aliases="Львівська область")
    lviv = make_city(
        db,
        name="Lviv",
        region=lviv_region,
        lat="49.84",
        lon="24.03",
        aliases="Lviv Lvov Львів Львов Lwów Lemberg",
    )
    warm = make_service(
        db,
        name="Warming point Podil",
        description="Heating, tea, phone charging",
        city=kyiv,
        street="Khoryva 12",
        address_city="Kyiv",
    )
    kitchen = make_service(db, name="Community kitchen", org_name="Caritas Demo", city=kyiv)
    centre = make_service(db, name="Collective centre Sykhiv", city=lviv, lat="49.80", lon="24.05")
    secret = make_service(
        db,
        name="Safe house",
        city=kyiv,
        privacy="confidential",
        street="Tykhyi provulok 7",
        address_city="Kyiv",
    )
    translate(db, centre, "name", "uk", "Колективний центр Сихів")
    food = make_term(db, code="food", name="Food", labels={"uk": "Їжа", "de": "Essen"})
    categorise(db, kitchen, food)
    reindex_all(db)
    return World(kyiv, lviv, warm, kitchen, centre, secret)


def _found(db: Session, q: str, **kw: object) -> set[str]:
    res = search_services(db, SearchParams(q=q, now=NOW, **kw), stale_after_days=30)  # type: ignore[arg-type]
    assert res.total == len(res.items)
    return {card.name.value for card in res.items}


KYIV = {"Warming point Podil", "Community kitchen", "Safe house"}


@pytest.mark.parametrize("q", ["Kyiv", "Kiev", "Київ", "Киев", "Kijów", "kijow", "KIEW", "Kyjiw"])
def test_kyiv_in_every_script_finds_the_same_services(db: Session, world: World, q: str) -> None:
    assert _found(db, q) == KYIV


@pytest.mark.parametrize("q", ["Lviv", "Львів", "Lwów", "LWOW", "Lemberg", "Львов"])
def test_lviv_in_every_script(db: Session, world: World, q: str) -> None:
    assert _found(db, q) == {"Collective centre Sykhiv"}


def test_translated_name_is_found_in_its_script_and_transliterated(
    db: Session, world: World
) -> None:
    assert _found(db, "Колективний") == {"Collective centre Sykhiv"}
    assert _found(db, "kolektivnii") == {"Collective centre Sykhiv"}


def test_case_and_diacritics_do_not_matter(db: Session, world: World) -> None:
    assert _found(db, "WARMING") == _found(db, "wärming") == {"Warming point Podil"}


def test_every_word_must_match(db: Session, world: World) -> None:
    assert _found(db, "kitchen kyiv") == {"Community kitchen"}
    assert _found(db, "kitchen lviv") == set()


@pytest.mark.parametrize("q", ["war", "Warm", "w", "po", "cari"])
def test_word_prefix_finds_the_service(db: Session, world: World, q: str) -> None:
    assert {"Warming point Podil", "Community kitchen"} & _found(db, q)


def test_one_letter_prefix(db: Session, world: World) -> None:
    assert _found(db, "l") == {"Collective centre Sykhiv"}  # Lviv, Lemberg, Lwów
    assert _found(db, "к") == KYIV | {"Collective centre Sykhiv"}  # Kyiv ..., Kolektyvnyi


def test_organisation_category_and_street_are_searchable(db: Session, world: World) -> None:
    assert _found(db, "Caritas") == {"Community kitchen"}
    assert _found(db, "Їжа") == _found(db, "essen") == {"Community kitchen"}
    assert _found(db, "Khoryva") == {"Warming point Podil"}


def test_confidential_street_is_never_searchable(db: Session, world: World) -> None:
    assert _found(db, "Tykhyi") == set()
    assert _found(db, "provulok") == set()
    assert "Safe house" in _found(db, "Kyiv")  # found by its city, not by where it is


@pytest.mark.parametrize(
    ("q", "suggestion"),
    [
        ("warmng", "warming"),
        ("Lvif", "lviv"),
        ("colective", "collective"),
        ("kitchn kyiv", "kitchen kyiv"),
    ],
)
def test_small_typo_finds_and_suggests(db: Session, world: World, q: str, suggestion: str) -> None:
    res = search_services(db, SearchParams(q=q, now=NOW), stale_after_days=30)
    assert res.total >= 1
    assert res.suggestion == suggestion
    assert res.corrected


def test_short_words_and_far_typos_are_not_corrected(db: Session, world: World) -> None:
    for q in ["kyx", "wxrmxng", "zzzzzzzz"]:
        res = search_services(db, SearchParams(q=q, now=NOW), stale_after_days=30)
        assert (res.total, res.suggestion) == (0, None)


def test_exact_match_wins_over_correction(db: Session, world: World) -> None:
    res = search_services(db, SearchParams(q="kitchen", now=NOW), stale_after_days=30)
    assert res.total == 1 and res.suggestion is None and not res.corrected


def test_query_matching_nothing(db: Session, world: World) -> None:
    res = search_services(db, SearchParams(q="qqqq xyzzy", now=NOW), stale_after_days=30)
    assert (res.total, res.items, res.next_cursor) == (0, [], None)


def test_punctuation_only_query_is_no_text_filter(db: Session, world: World) -> None:
    res = search_services(db, SearchParams(q=" ?! ", now=NOW), stale_after_days=30)
    assert res.total == 4


def test_reindex_follows_changes_and_archiving(db: Session, world: World) -> None:
    world.kitchen.name = "Soup kitchen"
    db.flush()  # the app's sessions do not autoflush: the write path flushes before reindexing
    reindex_services(db, [world.kitchen.id])
    assert _found(db, "soup") == {"Soup kitchen"}
    world.kitchen.archived_at = NOW
    db.flush()
    reindex_services(db, [world.kitchen.id])
    assert _found(db, "soup") == set()
    assert _found(db, "kitchen") == set()


def test_reindex_all_counts_services(db: Session, world: World) -> None:
    assert reindex_all(db) == 4
    assert _found(db, "Kiev") == KYIV


def test_arabic_reader_finds_a_shelter_written_with_the_article(db: Session, world: World) -> None:
    translate(db, world.centre, "description", "ar", "المأوى والسكن للنساء والأطفال")
    reindex_services(db, [world.centre.id])
    assert _found(db, "مأوى") == {"Collective centre Sykhiv"}
    assert _found(db, "نساء", locale="ar") == {"Collective centre Sykhiv"}
