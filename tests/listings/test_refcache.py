"""The per-process reference cache (places, categories, notices): served from memory while the
data version stands still, rebuilt as soon as any public data changes, and never stale for
time-dependent facts (notice validity is checked against `now` on every call)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from directory.listings import refcache
from directory.listings.models import Notice, Severity
from directory.listings.queries import list_categories, list_places, notices_in_force
from tests.factories import make_city, make_service, make_term, translate

NOW = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)


@contextmanager
def statements(db: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    conn = db.connection()

    def listener(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", listener)


def test_warm_lookups_run_no_sql_within_a_transaction(db: Session) -> None:
    make_city(db, name="Cacheville")
    make_term(db, code="t-cache", name="Cache")
    list_places(db, locale="uk")
    with statements(db) as seen:
        places = list_places(db, locale="uk")
        categories = list_categories(db, locale="uk")
        notices_in_force(db, locale="uk", now=NOW)
    assert seen == []
    assert "Cacheville" in {p.name.value for p in places}
    assert "t-cache" in {c.code for c in categories}


def test_a_write_is_seen_at_once(db: Session) -> None:
    city = make_city(db, name="Oldname")
    term = make_term(db, code="t-rename", name="Before")
    assert "Oldname" in {p.name.value for p in list_places(db, locale="en")}
    city.name = "Newname"
    translate(db, term, "name", "uk", "Після")
    names = {p.name.value for p in list_places(db, locale="en")}
    assert "Newname" in names and "Oldname" not in names
    labels = {c.code: c.label.value for c in list_categories(db, locale="uk")}
    assert labels["t-rename"] == "Після"


def test_each_locale_has_its_own_labels(db: Session) -> None:
    make_term(db, code="t-food", name="Food", labels={"uk": "Їжа", "de": "Essen"})
    for locale, label in (("en", "Food"), ("uk", "Їжа"), ("de", "Essen"), ("uk", "Їжа")):
        assert {c.code: c.label.value for c in list_categories(db, locale=locale)}[
            "t-food"
        ] == label


def test_notice_validity_is_checked_against_now_on_every_call(db: Session) -> None:
    db.add(
        Notice(
            title="Until nine",
            severity=Severity.warning,
            valid_from=NOW,
            valid_until=NOW + dt.timedelta(hours=1),
        )
    )
    db.flush()
    titles = lambda when: [n.title.value for n in notices_in_force(db, locale="en", now=when)]  # noqa: E731
    assert titles(NOW - dt.timedelta(minutes=1)) == []
    assert titles(NOW) == ["Until nine"]
    assert titles(NOW + dt.timedelta(minutes=59)) == ["Until nine"]
    assert titles(NOW + dt.timedelta(hours=1)) == []  # same data version, later time


def test_cards_use_the_cached_place_names(db: Session) -> None:
    from directory.listings.queries import SearchParams, search_services
    from directory.search.index import reindex_all

    region = make_city(db, name="Regio")
    city = make_city(db, name="Urbs", region=region)
    make_service(db, name="Kitchen", city=city, region=region)
    reindex_all(db)
    card = search_services(db, SearchParams(now=NOW), stale_after_days=30).items[0]
    assert card.location is not None and card.location.city is not None
    assert card.location.city.name.value == "Urbs"
    translate(db, city, "name", "uk", "Урбс")
    card = search_services(db, SearchParams(now=NOW, locale="uk"), stale_after_days=30).items[0]
    assert card.location is not None and card.location.city is not None
    assert card.location.city.name.value == "Урбс"


def test_the_version_is_read_again_after_a_write(db: Session) -> None:
    refcache.version(db)
    before = refcache.version(db)
    make_city(db, name="Bump")  # flushes: new data version
    assert refcache.version(db) != before


def test_core_written_labels_give_a_new_version(db: Session) -> None:
    """`sync_translations` (gazetteer/taxonomy labels, written with Core statements) bumps the
    data version itself, so cached labels are rebuilt."""
    from directory.listings.taxonomy import sync_translations

    term = make_term(db, code="t-core", name="Core", labels={"uk": "Ядро"})
    assert {c.code: c.label.value for c in list_categories(db, locale="uk")}["t-core"] == "Ядро"
    sync_translations(db, "taxonomy_term", {(term.id, "name", "uk"): "Серцевина"})
    assert {c.code: c.label.value for c in list_categories(db, locale="uk")}[
        "t-core"
    ] == "Серцевина"


def test_pending_changes_are_flushed_before_a_cached_read(db: Session) -> None:
    from directory.listings.models import Place, PlaceKind

    make_city(db, name="Warm")
    list_places(db, locale="en")  # version remembered, entry cached
    db.add(Place(kind=PlaceKind.region, name="Pending", code="T-pending"))  # not flushed
    assert "Pending" in {p.name.value for p in list_places(db, locale="en")}
