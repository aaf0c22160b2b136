"""The search statements use indexes, not scans, on both databases (EXPLAIN of the statements
the read path really runs). On PostgreSQL sequential scans are switched off for the check, so a
plan without them proves an index can serve the statement (tiny test tables never need one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from directory.listings.queries import SearchParams, search_services
from directory.search import near, ranking, service
from directory.search.index import reindex_all
from tests.factories import make_city, make_service

NOW = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)


@contextmanager
def captured(db: Session) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    conn = db.connection()

    def before(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        if not statement.startswith(("EXPLAIN", "SET ", "RESET ")):  # planner questions/hints
            seen.append((statement, params))

    event.listen(conn, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", before)


def _plan(db: Session, statement: str, params: Any) -> str:
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return "\n".join(str(r[-1]) for r in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
    return "\n".join(r[0] for r in rows)


@pytest.fixture()
def data(db: Session) -> None:
    city = make_city(
        db,
        name="Kyiv",
        region=make_city(db, name="Kyiv Oblast"),
        lat="50.45",
        lon="30.52",
        aliases="Kiev Київ",
    )
    for i in range(30):
        make_service(
            db,
            name=f"Warming point {i}",
            city=city,
            lat=f"50.{40 + i}",
            lon="30.52",
            street=f"Street {i}",
            address_city="Kyiv",
        )
    reindex_all(db)
    if db.connection().dialect.name == "postgresql":
        db.execute(text("ANALYZE"))


def _search_statements(db: Session, params: SearchParams) -> list[tuple[str, Any]]:
    with captured(db) as seen:
        res = search_services(db, params, stale_after_days=30)
    assert res.total > 0
    return seen


def _scans_a_big_table(plan: str, dialect: str) -> list[str]:
    bad = []
    for line in plan.splitlines():
        if dialect == "sqlite":
            words = line.split()
            if (
                line.startswith("SCAN ")
                and len(words) > 1
                and words[1] in ("service", "location", "service_search", "service_at_location")
            ):
                bad.append(line)
        elif "Seq Scan on service" in line or "Seq Scan on location" in line:
            bad.append(line)
    return bad


def test_text_search_uses_the_full_text_index(db: Session, data: None) -> None:
    dialect = db.connection().dialect.name
    for q in ["warming", "w", "Kiev", "wa point"]:
        seen = _search_statements(db, SearchParams(q=q, now=NOW))
        text_statements = [(s, p) for s, p in seen if "service_fts MATCH" in s or "to_tsquery" in s]
        assert len(text_statements) >= 2, q  # the count and the page
        for statement, params in text_statements:
            plan = _plan(db, statement, params)
            if dialect == "sqlite":
                assert "VIRTUAL TABLE INDEX" in plan, plan
            else:
                # the text index table is read through an index (GIN at scale; tiny tables
                # may use another of its indexes), never by a sequential scan
                assert "Seq Scan on service_fts" not in plan and "service_fts" in plan, plan
            assert _scans_a_big_table(plan, dialect) == [], (q, plan)


def test_filters_use_the_facet_index(db: Session, data: None) -> None:
    dialect = db.connection().dialect.name
    place = db.execute(text("SELECT id FROM place WHERE name = 'Kyiv Oblast'")).scalar()
    seen = _search_statements(db, SearchParams(place=str(place), heating=False, now=NOW))
    matching = [(s, p) for s, p in seen if "service_fts MATCH" in s or "to_tsquery" in s]
    assert matching
    for statement, params in matching:
        plan = _plan(db, statement, params)
        if dialect == "postgresql":
            assert "Seq Scan on service_fts" not in plan, plan
        assert _scans_a_big_table(plan, dialect) == [], plan


def test_near_me_prefilter_uses_the_coordinate_index(
    db: Session, data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(near, "SPARSE_DISTANCE", 0)  # take the bounding-box path
    seen = _search_statements(
        db, SearchParams(near=(50.45, 30.52), sort="distance", per_page=5, now=NOW)
    )
    boxes = [(s, p) for s, p in seen if "location.latitude BETWEEN" in s]
    assert boxes, [s for s, _ in seen]
    for statement, params in boxes:
        plan = _plan(db, statement, params)
        assert "ix_location_lat_lon" in plan, plan
        assert _scans_a_big_table(plan, db.connection().dialect.name) == [], plan


def _hints(db: Session, params: SearchParams) -> list[str]:
    """Every statement the search runs, planner hints included, in order."""
    seen: list[str] = []
    conn = db.connection()

    def before(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    event.listen(conn, "before_cursor_execute", before)
    try:
        search_services(db, params, stale_after_days=30)
    finally:
        event.remove(conn, "before_cursor_execute", before)
    return seen


def test_counting_uses_the_text_index_unless_most_listings_match(db: Session, data: None) -> None:
    """PostgreSQL: a rarer word is counted through the GIN index (sequential scans switched off
    for that statement only, and back on after it); a word in every listing is counted by
    reading rows until the cap, which the planner may do by a bounded scan. SQLite: FTS5
    always, no hints."""
    for i in range(3):
        make_service(db, name=f"Legal aid desk {i}", lat=None, lon=None)
    reindex_all(db)
    dialect = db.connection().dialect.name
    if dialect == "postgresql":
        db.execute(text("ANALYZE service_fts"))
    rare = _hints(db, SearchParams(q="legal", now=NOW))
    common = _hints(db, SearchParams(q="site", now=NOW))  # every location is "<name> site"
    for seen in (rare, common):
        counts = [n for n, s in enumerate(seen) if s.startswith("SELECT count(*)")]
        assert counts, seen
    if dialect == "sqlite":
        assert not [s for s in rare + common if s.startswith(("SET", "RESET", "EXPLAIN"))]
        return
    n = next(n for n, s in enumerate(rare) if s.startswith("SELECT count(*)"))
    assert rare[n - 1] == "SET LOCAL enable_seqscan = off" and rare[n + 1] == "RESET enable_seqscan"
    n = next(n for n, s in enumerate(common) if s.startswith("SELECT count(*)"))
    before = common[:n]
    assert any(s.startswith("EXPLAIN (FORMAT JSON)") for s in before), common
    assert "SET LOCAL enable_seqscan = off" not in before, common
    # the hint never outlives the statement it was for
    assert db.execute(text("SHOW enable_seqscan")).scalar() == "on"


def test_dense_pages_read_each_tier_in_index_order(
    db: Session, data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many matches the page is read tier by tier in the order of the index (FTS5 rowid,
    the sort_key btree on PostgreSQL), and no further than the tier that fills the page."""
    monkeypatch.setattr(service, "DENSE_MATCHES", 1)
    monkeypatch.setattr(service, "DENSE_MATCHES_SQLITE", 1)
    dialect = db.connection().dialect.name
    seen = _search_statements(db, SearchParams(q="warming", per_page=5, now=NOW))
    pages = [(s, p) for s, p in seen if s.startswith("SELECT service.id") and "ORDER BY" in s]
    # The 30 listings were never checked (stale): the first tier is empty, the second fills the
    # page, the third (temporarily closed) is never read.
    assert len(pages) == 2, [s for s, _ in seen]
    plan = _plan(db, *pages[1])
    if dialect == "sqlite":
        assert "VIRTUAL TABLE INDEX" in plan and "USE TEMP B-TREE" not in plan, plan
    else:
        assert "ix_service_search_pg_fts_sort_key" in plan and "Sort" not in plan, plan
        # and the planner is told so: its estimate for a phrase can be far too low
        hints = _hints(db, SearchParams(q="warming", per_page=5, now=NOW))
        first = next(n for n, s in enumerate(hints) if s.startswith("SELECT service.id"))
        assert hints[first - 1].endswith("SET LOCAL enable_bitmapscan = off"), hints
        assert any("RESET enable_bitmapscan" in s for s in hints[first:]), hints
    assert _scans_a_big_table(plan, dialect) == [], plan


def test_open_now_is_checked_listing_by_listing(
    db: Session, data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Open now" stays a correlated check of each service the search reads (PostgreSQL would
    otherwise join every location in the directory with its schedules before the LIMIT)."""
    dialect = db.connection().dialect.name
    db.execute(text("UPDATE location SET open_24_7 = :t"), {"t": True})
    seen = _search_statements(db, SearchParams(q="warming", open_now=True, now=NOW))
    counted = [(s, p) for s, p in seen if s.startswith("SELECT count(*)")]
    assert counted, [s for s, _ in seen]
    plan = _plan(db, *counted[0])
    if dialect == "postgresql":
        assert "SubPlan" in plan and "Semi Join" not in plan, plan
    assert _scans_a_big_table(plan, dialect) == [], plan
    # Its schedule look-ups OR three indexes together (bitmap scans): a page read in index
    # order must not switch those off (that made every check read the whole schedule table).
    monkeypatch.setattr(ranking, "OPEN_NOW_COUNT_CAP", 2)  # "more than 2": read in order
    hints = _hints(db, SearchParams(q="warming", open_now=True, now=NOW))
    assert any(s.startswith("SELECT service.id") and "ORDER BY" in s for s in hints), hints
    assert not [s for s in hints if "enable_bitmapscan" in s], hints


def test_open_now_finds_schedules_by_index_after_analyze(db: Session, data: None) -> None:
    """Schedules here belong to locations only (no service-at-location owner, as in most data):
    after ANALYZE the owner look-ups of "open now" still use their indexes. With plain indexes
    SQLite's statistics counted the NULLs ("30 rows per key" for an unused owner column), priced
    the OR of the three look-ups above a scan, and scanned the schedule table for every listing."""
    import datetime as dt

    from sqlalchemy import select

    from directory.listings.models import Location, Schedule

    if db.connection().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's statistics keep NULLs apart (null_frac): never misled so")
    for loc_id in db.scalars(select(Location.id)).all():
        db.add(
            Schedule(
                location_id=loc_id,
                freq="WEEKLY",
                byday="MO,TU,WE,TH,FR",
                opens_at=dt.time(8),
                closes_at=dt.time(20),
            )
        )
    db.flush()
    db.execute(text("ANALYZE"))
    seen = _search_statements(db, SearchParams(q="warming", open_now=True, now=NOW))
    counted = [(s, p) for s, p in seen if s.startswith("SELECT count(*)")]
    assert counted
    conn = db.connection()
    statement, params = counted[0]
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    plan = [str(r[-1]) for r in rows]
    assert [line for line in plan if line.startswith("SEARCH schedule USING INDEX")], plan
    assert not [line for line in plan if line.startswith("SCAN schedule")], plan
