"""What the search remembers of the index per data version (`match.remembered`: counts, word
expansions, typo corrections, the planner's verdict): the same answers as asking, and a write
(or a full reindex) is seen at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from directory.listings import refcache
from directory.listings.queries import SearchParams, search_services
from directory.search.index import reindex_all, reindex_services
from tests.factories import make_service

NOW = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)


def _total(db: Session, q: str) -> tuple[int, str | None]:
    res = search_services(db, SearchParams(q=q, now=NOW), stale_after_days=30)
    return res.total, res.suggestion


def test_counts_and_expansions_follow_writes(db: Session) -> None:
    make_service(db, name="Zebrafish clinic")
    reindex_all(db)
    assert _total(db, "zebrafish") == (1, None)
    assert _total(db, "zebrafish") == (1, None)  # remembered
    assert _total(db, "zebrafis") == (1, None)  # a prefix: expanded through the vocabulary
    second = make_service(db, name="Zebrafishery kitchen")
    reindex_services(db, [second.id])
    assert _total(db, "zebrafis") == (2, None)
    assert _total(db, "zebrafish") == (2, None)  # a word begins "zebrafishery" too
    assert _total(db, "zebrafishery") == (1, None)


def test_typo_corrections_follow_writes(db: Session) -> None:
    make_service(db, name="Quokka shelter")
    reindex_all(db)
    assert _total(db, "quokkx") == (1, "quokka")
    second = make_service(db, name="Quokkx pantry")
    reindex_services(db, [second.id])
    assert _total(db, "quokkx") == (1, None)  # now a word of the index: no correction


def test_a_full_reindex_gives_a_new_version(db: Session) -> None:
    make_service(db, name="Reindexed")
    before = refcache.version(db)
    reindex_all(db)
    assert refcache.version(db) != before


def test_a_near_me_page_follows_writes(db: Session) -> None:
    make_service(db, name="Far kitchen", lat="50.60", lon="30.52")
    reindex_all(db)
    params = SearchParams(near=(50.45, 30.52), sort="distance", now=NOW)
    names = lambda: [c.name.value for c in search_services(db, params, stale_after_days=30).items]  # noqa: E731
    assert names() == ["Far kitchen"]
    assert names() == ["Far kitchen"]  # remembered
    near = make_service(db, name="Near kitchen", lat="50.46", lon="30.52")
    reindex_services(db, [near.id])
    assert names() == ["Near kitchen", "Far kitchen"]
