"""Alert-aware pages: a feed's alert shows first on the pages about its region with one big action,
refreshes itself (htmx) or by a link (no JavaScript), says when it ended, and says when the alert
status is unknown because a watched feed went silent."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.alerts import apply
from directory.alerts.models import AlertFeed
from directory.alerts.sources import Feed, RegionState

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
FEED = Feed(url="https://alerts.example.org/active.json", kind="state")


def _state(db: Session, *codes: str, since: dt.datetime | None = None) -> None:
    apply.handle_state(
        db,
        FEED,
        [
            RegionState(code=c, since=since or NOW - dt.timedelta(minutes=4), alert_type="air_raid")
            for c in codes
        ],
        now=dt.datetime.now(dt.UTC),
    )
    db.flush()


@pytest.fixture()
def watched(app: FastAPI, gaz: Session) -> Iterator[None]:
    """The app as an operator runs it with a feed configured (restored afterwards)."""
    before = app.state.settings
    app.state.settings = before.model_copy(update={"alert_feeds": FEED.url})
    yield
    app.state.settings = before


def test_alert_shows_first_in_its_region_only(client: TestClient, gaz: Session) -> None:
    _state(gaz, "UA-12")
    dnipro = client.get("/uk/?place=UA-12").text
    assert "Повітряна тривога" in dnipro
    board = dnipro[dnipro.index('id="notice-board"') :]
    assert board.index("Повітряна тривога") < dnipro.index("<main") or "notice danger" in board
    link = re.search(
        r'href="(/uk/search\?category=shelter&amp;alert=1&amp;open_now=1&amp;place=UA-12)"', dnipro
    )
    assert link, "the big action leads to Dnipro's shelters open during alerts, open now"
    assert "Найближче укриття, відкрите під час тривоги" in dnipro
    assert 'hx-get="/uk/alerts/board?place=UA-12' in dnipro and 'hx-trigger="every 30s' in dnipro
    assert "Оновити" in dnipro  # the no-JavaScript refresh link
    lviv = client.get("/uk/?place=UA-46").text
    assert "notice danger" not in lviv and "Найближче укриття" not in lviv
    results = client.get("/en/search?place=UA-12&category=shelter").text
    assert "Air-raid alert" in results and "Nearest shelter open during alerts" in results
    # A reader who shared a position (near me, in Dnipro): the shelters are sorted by distance.
    near = client.get("/en/?near=48.46,35.05").text
    assert "&amp;near=48.46,35.05&amp;sort=distance" in near


def test_board_fragment_refreshes_and_says_when_it_ended(client: TestClient, gaz: Session) -> None:
    _state(gaz, "UA-12")
    first = client.get(
        "/en/alerts/board?place=UA-12&picker=pick-place",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/en/?place=UA-12"},
    )
    assert first.status_code == 200 and "set-cookie" not in first.headers
    assert (
        first.text.lstrip().startswith('<div id="notice-board"') and "Air-raid alert" in first.text
    )
    assert 'href="/en/?place=UA-12"' in first.text  # Refresh goes to the page, not to the fragment
    _state(gaz)  # the feed no longer lists Dnipro
    ended = client.get("/en/alerts/board?place=UA-12").text
    assert "notice danger" not in ended
    assert re.search(
        r"Air-raid alert</span> ended at \d{1,2}:\d\d(\W?[AP]M)? \(Kyiv time\)\.", ended
    ), ended
    page = client.get("/en/?place=UA-12").text
    assert "Air-raid alert</span> ended at" in page
    assert "ended at" not in client.get("/en/?place=UA-46").text  # Lviv never had it


def test_unknown_status_when_the_feed_is_silent(
    client: TestClient, gaz: Session, watched: None
) -> None:
    gaz.add(
        AlertFeed(
            url=FEED.url,
            kind="state",
            seen={},
            failures=3,
            last_error="HTTP 503",
            last_success_at=NOW - dt.timedelta(minutes=20),
            last_attempt_at=NOW,
        )
    )
    gaz.flush()
    for path in ("/en/", "/en/?place=UA-12", "/en/search?category=shelter"):
        text = client.get(path).text
        assert "Alert status unknown since" in text and "(Kyiv time)" in text, path
        assert 'hx-get="/en/alerts/board' in text  # watched: the board polls even with no alert
    row = gaz.get(AlertFeed, FEED.url)
    assert row is not None
    row.last_success_at = dt.datetime.now(dt.UTC)
    gaz.flush()
    quiet = client.get("/en/?place=UA-12").text
    assert "Alert status unknown" not in quiet
    # Nothing to show, but a watched feed: the empty board still polls for its own region.
    assert 'hx-get="/en/alerts/board?place=UA-12&amp;picker=pick-place"' in quiet


@pytest.mark.parametrize("locale", ["uk", "ar"])
def test_alert_in_the_readers_language(client: TestClient, gaz: Session, locale: str) -> None:
    _state(gaz, "UA-12")
    text = client.get(f"/{locale}/?place=UA-12").text
    title = {"uk": "Повітряна тривога", "ar": "إنذار غارة جوية"}[locale]
    assert title in text
