"""Counting stops at a cap: past it the reader is told "more than N", never a wrong exact
number, in every language; below it the count is exact."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from directory.search import ranking
from directory.search.index import reindex_all
from tests.factories import make_service


@pytest.fixture()
def five(db: Session) -> None:
    for i in range(5):
        make_service(db, name=f"Warming point {i}")
    reindex_all(db)


def test_a_count_past_the_cap_says_more_than(
    client,
    five: None,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(ranking, "INDEX_COUNT_CAP", 3)
    r = client.get("/en/search?q=warming")
    assert r.status_code == 200 and "More than 3 services found" in r.text
    r = client.get("/uk/search?q=warming")
    assert "Знайдено понад 3 послуги" in r.text
    monkeypatch.setattr(ranking, "INDEX_COUNT_CAP", 1000)
    r = client.get("/en/search?q=warming")
    assert "5 services found" in r.text and "More than" not in r.text


def test_open_now_counts_up_to_its_own_cap(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from directory.listings.queries import SearchParams, search_services

    for i in range(5):
        make_service(db, name=f"Open point {i}", location_fields={"open_24_7": True})
    make_service(db, name="Open point closed")  # no hours: never open now
    reindex_all(db)
    now = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(ranking, "OPEN_NOW_COUNT_CAP", 2)
    res = search_services(db, SearchParams(q="open", open_now=True, now=now), stale_after_days=30)
    assert (res.total, res.total_exact, len(res.items)) == (2, False, 5)
    monkeypatch.setattr(ranking, "OPEN_NOW_COUNT_CAP", 10)
    res = search_services(db, SearchParams(q="open", open_now=True, now=now), stale_after_days=30)
    assert (res.total, res.total_exact, len(res.items)) == (5, True, 5)


def test_the_api_says_when_its_count_stopped_at_the_cap(
    client,
    five: None,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(ranking, "INDEX_COUNT_CAP", 3)
    body = client.get("/api/v1/services?q=warming").json()
    assert (body["total_items"], body["total_items_exact"]) == (3, False)
    assert body["size"] == 5  # the page itself is complete
    monkeypatch.setattr(ranking, "INDEX_COUNT_CAP", 1000)
    body = client.get("/api/v1/services?q=warming").json()
    assert (body["total_items"], body["total_items_exact"]) == (5, True)
