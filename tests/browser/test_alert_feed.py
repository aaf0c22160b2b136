"""Scenario 9 driven by the feed alone: an official region-state feed raises an air-raid alert in
Dnipro; nobody posts anything. Readers in Dnipro (phone, 360 px, Ukrainian) see it on the page they
have open — htmx refreshes the board — with the nearest shelters open during alerts one tap away;
readers in Lviv do not; without JavaScript the same state is on the page and a Refresh link; when
the feed drops Dnipro, the page says the alert ended. Screenshots: docs/screenshots/alerts/."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.browser.conftest import _free_port, load_site_data
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
SHOTS = ROOT / "docs" / "screenshots" / "alerts"
PHONE = {"width": 360, "height": 740}


class FeedSite:
    def __init__(self, url: str, feed: HTTPServer, db_url: str) -> None:
        self.url, self.feed, self.db_url = url, feed, db_url

    def alert(self, *regions: str) -> None:
        """What the feed says from now on: these oblasts have an air-raid alert."""
        names = {"UA-12": "Дніпропетровська область", "UA-63": "Харківська область"}
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        )
        doc = {
            "alerts": [
                {
                    "location_title": names[r],
                    "location_type": "oblast",
                    "started_at": since,
                    "finished_at": None,
                    "alert_type": "air_raid",
                    "location_oblast": names[r],
                }
                for r in regions
            ]
        }
        self.feed.clear()
        self.feed.expect_request("/v1/alerts/active.json").respond_with_json(doc)


@pytest.fixture(scope="module")
def feed_site(
    tmp_path_factory: pytest.TempPathFactory, make_httpserver: HTTPServer
) -> Iterator[FeedSite]:
    import uvicorn

    from directory.alerts.sources import parse_feeds
    from directory.alerts.watcher import watch
    from directory.app import create_app
    from directory.config import Settings
    from directory.db import make_engine, make_sessionmaker

    db_url = f"sqlite:///{tmp_path_factory.mktemp('alerts') / 'site.db'}"
    load_site_data(db_url)
    _without_demo_alerts(db_url)
    feeds = f"state {make_httpserver.url_for('/v1/alerts/active.json')} mapping=alerts-in-ua"
    site = FeedSite("", make_httpserver, db_url)
    site.alert()  # no alert anywhere yet
    app = create_app(
        Settings(
            database_url=db_url, secret_key="browser-test-" + "k" * 40, demo=True, alert_feeds=feeds
        )
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    site.url = f"http://127.0.0.1:{port}"
    # The watcher, as `aid-directory alerts watch` runs it, polling every second.
    engine = make_engine(db_url)
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch,
        args=(make_sessionmaker(engine), parse_feeds(feeds)),
        kwargs={"interval": 1.0, "max_bytes": 1_000_000, "stop": stop},
        daemon=True,
    )
    watcher.start()
    yield site
    stop.set()
    watcher.join(timeout=10)
    engine.dispose()
    server.should_exit = True
    thread.join(timeout=10)
    make_httpserver.clear()


def _without_demo_alerts(db_url: str) -> None:
    """The demo's own (hand-posted) alert notices go: here only the feed raises alerts."""
    from sqlalchemy import delete, select

    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.listings import models as m

    engine = make_engine(db_url)
    with session_scope(make_sessionmaker(engine)) as db:
        ids = list(db.scalars(select(m.Notice.id).where(m.Notice.kind == m.NoticeKind.alert)))
        db.execute(
            delete(m.Translation).where(
                m.Translation.entity_type == "notice", m.Translation.entity_id.in_(ids)
            )
        )
        db.execute(delete(m.Notice).where(m.Notice.id.in_(ids)))
    engine.dispose()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _no_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_dnipro_alert_from_the_feed_alone(browser: Any, feed_site: FeedSite) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="uk-UA", service_workers="block")
    lviv_ctx = browser.new_context(viewport=PHONE, locale="uk-UA", service_workers="block")
    try:
        page = ctx.new_page()
        page.goto(f"{feed_site.url}/uk/?place=UA-12")
        assert page.locator("#notice-board .notice.danger").count() == 0
        _shot(page, "1-dnipro-before-uk")
        lviv = lviv_ctx.new_page()
        lviv.goto(f"{feed_site.url}/uk/?place=UA-46")

        feed_site.alert("UA-12")
        started = time.monotonic()
        # The reader does nothing; the board refreshes itself (every 30 s, or at once when the
        # phone's screen comes back on: the visibilitychange trigger).
        deadline = started + 20
        while page.locator("#notice-board .notice.danger").count() == 0:
            assert time.monotonic() < deadline, "the alert did not reach the open page"
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
            page.wait_for_timeout(500)
        shown_after = time.monotonic() - started
        alert = page.locator("#notice-board .notice.danger").first
        assert "Повітряна тривога" in alert.inner_text()
        assert "час: Київ" in alert.inner_text()  # in Kyiv time, the zone named
        _no_overflow(page)
        _shot(page, "2-dnipro-alert-uk")
        print(
            f"\nfeed change -> alert on the open page: {shown_after:.1f} s (watcher interval 1 s)"
        )

        # One tap: the nearest shelters open during alerts, in Dnipro's region.
        page.get_by_role("link", name="Найближче укриття, відкрите під час тривоги").click()
        page.wait_for_load_state()
        assert "alert=1" in page.url and "place=UA-12" in page.url and "open_now=1" in page.url
        first_card = page.locator(".card").first
        assert first_card.count() == 1
        _no_overflow(page)
        _shot(page, "3-dnipro-shelters-uk")

        # Lviv: nothing in full (the page is about Lviv), even after a reload.
        lviv.reload()
        assert lviv.locator("#notice-board .notice.danger").count() == 0
        _shot(lviv, "4-lviv-no-alert-uk")
    finally:
        ctx.close()
        lviv_ctx.close()

    # Without JavaScript: the state is on the page, with a Refresh link.
    nojs = browser.new_context(
        viewport=PHONE, locale="ar", java_script_enabled=False, service_workers="block"
    )
    try:
        page = nojs.new_page()
        page.goto(f"{feed_site.url}/ar/?place=UA-12")
        assert "إنذار غارة جوية" in page.locator("#notice-board").inner_text()
        assert page.get_by_role("link", name="تحديث").count() == 1
        _no_overflow(page)
        _shot(page, "5-dnipro-alert-ar-nojs")
        feed_site.alert()  # the feed no longer lists Dnipro: the alert is over
        deadline = time.monotonic() + 20
        while "انتهى" not in page.locator("#notice-board").inner_text():
            assert time.monotonic() < deadline, "the end of the alert did not reach the page"
            page.wait_for_timeout(500)
            # what the Refresh link asks for; reload also revalidates the browser's copy
            page.reload()
        assert page.locator("#notice-board .notice.danger").count() == 0
        _shot(page, "6-dnipro-ended-ar-nojs")
    finally:
        nojs.close()
