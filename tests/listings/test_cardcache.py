"""The per-process card cache (`listings.cardcache`): a card's rows are read once per data
version and locale; any write is seen at once, each locale gets its own texts, the time-dependent
parts of a card are worked out on every search, and privacy redaction still runs on every card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from directory.listings import cardcache
from directory.listings.models import Privacy, ServiceStatus
from directory.listings.queries import SearchParams, search_services
from directory.search.index import reindex_all, reindex_services
from tests.factories import first_location, make_service, translate

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


def _cards(db: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    params = SearchParams(**{"q": "cachetest", "now": NOW, **kwargs})  # type: ignore[arg-type]
    return search_services(db, params, stale_after_days=30).items


def test_warm_cards_read_no_card_rows_and_are_the_same(db: Session) -> None:
    make_service(db, name="Cachetest kitchen", street="Khreshchatyk 1", address_city="Kyiv")
    make_service(db, name="Cachetest shelter")
    reindex_all(db)
    cardcache.clear()
    cold = _cards(db)
    with statements(db) as seen:
        warm = _cards(db)
    assert warm == cold and len(warm) == 2
    assert not [s for s in seen if "FROM service_at_location" in s and "address" in s]
    assert not [s for s in seen if "FROM translation" in s]


def test_a_write_is_seen_at_once(db: Session) -> None:
    svc = make_service(db, name="Cachetest old name")
    reindex_all(db)
    assert [c.name.value for c in _cards(db)] == ["Cachetest old name"]
    svc.name = "Cachetest new name"
    db.flush()  # a new data version
    reindex_services(db, [svc.id])
    assert [c.name.value for c in _cards(db)] == ["Cachetest new name"]
    translate(db, svc, "name", "uk", "Cachetest нова назва")
    assert [c.name.value for c in _cards(db, locale="uk")] == ["Cachetest нова назва"]
    loc = first_location(db, svc)
    loc.name = "Renamed site"
    db.flush()
    card = _cards(db)[0]
    assert card.location is not None and card.location.name is not None
    assert card.location.name.value == "Renamed site"


def test_each_locale_has_its_own_texts(db: Session) -> None:
    svc = make_service(db, name="Cachetest soup", description="Hot soup")
    translate(db, svc, "name", "uk", "Cachetest суп")
    translate(db, svc, "description", "de", "Heiße Suppe")
    reindex_all(db)
    for locale, name, summary in (
        ("en", "Cachetest soup", "Hot soup"),
        ("uk", "Cachetest суп", "Hot soup"),
        ("de", "Cachetest soup", "Heiße Suppe"),
        ("uk", "Cachetest суп", "Hot soup"),
        ("en", "Cachetest soup", "Hot soup"),
    ):
        card = _cards(db, locale=locale)[0]
        assert card.name.value == name
        assert card.summary is not None and card.summary.value == summary


def test_a_location_made_confidential_loses_its_address_at_once(db: Session) -> None:
    svc = make_service(db, name="Cachetest refuge", street="Secret street 5", address_city="Lviv")
    reindex_all(db)
    card = _cards(db)[0]
    assert card.location is not None and card.location.address is not None
    assert card.location.address.address_1 == "Secret street 5"
    loc = first_location(db, svc)
    loc.privacy = Privacy.confidential
    db.flush()
    reindex_services(db, [svc.id])
    for _ in range(2):  # cold, then from the cache
        card = _cards(db)[0]
        assert card.location is not None
        assert card.location.address is None and card.location.latitude is None
        assert card.location.name is None


def test_a_confidential_location_is_redacted_on_every_cached_card(db: Session) -> None:
    make_service(
        db, name="Cachetest hidden", privacy="confidential", street="Hidden 1", address_city="Kyiv"
    )
    reindex_all(db)
    cardcache.clear()
    for _ in range(3):
        card = _cards(db)[0]
        assert card.location is not None and card.location.address is None
        assert card.location.latitude is None and card.location.longitude is None


def test_time_dependent_parts_are_worked_out_per_search(db: Session) -> None:
    until = NOW + dt.timedelta(hours=2)
    make_service(
        db,
        name="Cachetest closed",
        service_fields={
            "status": ServiceStatus.temporarily_closed,
            "status_until": until,
            "assured_date": NOW - dt.timedelta(days=29),
        },
    )
    reindex_all(db)
    before = _cards(db)[0]
    assert before.status.temporary and not before.stale
    later = _cards(db, now=until + dt.timedelta(days=2))[0]  # same data version, later
    assert not later.status.temporary and later.stale
