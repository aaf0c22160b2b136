"""In-place (htmx) updates with JavaScript on: a refused or failed action shows its message
beside the control that was used (403 outside the volunteer's regions, 409 already decided,
no network), and after an update the heading, title, filter count and queue counters match
the new state. The layout test's server and accounts are reused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_layout import PASSWORD, Site, serve_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_site(browser, tmp_path_factory)


PHONE = {"width": 360, "height": 740}


def _db(site: Site) -> Any:
    from directory.db import make_engine, make_sessionmaker

    engine = make_engine(site.db_url)
    return engine, make_sessionmaker(engine)


def test_search_in_place_updates_heading_title_and_filter_count(browser: Any, site: Site) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    page = ctx.new_page()
    try:
        page.goto(f"{site.url}/en/search")
        page.evaluate("window.__same_page = true")
        heading, title = page.inner_text("#page-h"), page.title()
        assert page.inner_text("#filters-h").strip() == "Filters"
        page.evaluate("document.querySelector('details.more').open = true")
        with page.expect_response(lambda r: "category=food" in r.url):
            page.select_option("#f-category", "food")
        page.wait_for_function(
            "(h) => document.querySelector('#page-h').innerText !== h", arg=heading
        )
        assert page.evaluate("window.__same_page") is True  # updated in place
        new_heading = page.inner_text("#page-h")
        assert "Food" in new_heading or "food" in new_heading, new_heading
        page.wait_for_function("(t) => document.title !== t", arg=title)
        assert new_heading in page.title()
        assert page.inner_text("#filters-h").strip() == "Filters (1)"
        assert page.locator("#page-h").count() == 1 and page.locator("#filters-h").count() == 1
    finally:
        ctx.close()


def test_volunteer_outside_region_sees_why_full_was_refused(browser: Any, site: Site) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block", locale="uk-UA")
    page = ctx.new_page()
    try:
        page.goto(f"{site.url}/uk/manage/login")
        page.fill("#email", "elsewhere@example.org")
        page.fill("#password", PASSWORD)
        page.click("form.m-form button[type=submit]")
        page.wait_for_url(re.compile(r"/uk/manage/$"))
        page.goto(f"{site.url}/uk/manage/listings/{site.service_id}")
        page.evaluate("window.__same_page = true")
        with page.expect_response(lambda r: r.url.endswith("/status")) as answer:
            page.click("button[name=status][value=full]")
        assert answer.value.status == 403
        alert = page.locator("#quick [role=alert]")
        alert.wait_for(timeout=5000)
        assert "регіон" in alert.inner_text(), alert.inner_text()  # in Ukrainian, says why
        assert alert.is_visible()
        assert page.evaluate("window.__same_page") is True
    finally:
        ctx.close()


def test_no_network_says_nothing_was_sent(browser: Any, site: Site) -> None:
    ctx = browser.new_context(
        viewport=PHONE, service_workers="block", storage_state=site.states["volunteer"]
    )
    page = ctx.new_page()
    try:
        page.goto(f"{site.url}/de/manage/listings/{site.service_id}")
        ctx.set_offline(True)
        page.click("button[name=status][value=full]")
        alert = page.locator("[data-htmx-problem]")
        alert.wait_for(timeout=5000)
        assert "Keine Verbindung" in alert.inner_text(), alert.inner_text()
        assert alert.get_attribute("role") == "alert"
    finally:
        ctx.set_offline(False)
        ctx.close()


def test_server_error_shows_the_error_page_message(browser: Any, site: Site) -> None:
    """A 5xx answer (a full error page) is not swapped in; its message appears beside the form."""
    ctx = browser.new_context(
        viewport=PHONE, service_workers="block", storage_state=site.states["volunteer"]
    )
    page = ctx.new_page()
    try:
        page.goto(f"{site.url}/ar/manage/listings/{site.service_id}")
        error_page = page.request.get(
            f"{site.url}/ar/services/00000000-0000-0000-0000-000000000000"
        )
        page.route(
            "**/status",
            lambda route: route.fulfill(
                status=500, content_type="text/html; charset=utf-8", body=error_page.text()
            ),
        )
        page.click("button[name=status][value=full]")
        alert = page.locator("[data-htmx-problem]")
        alert.wait_for(timeout=5000)
        text = alert.inner_text()
        assert text and not re.search(r"[A-Za-z]{4}", text), text  # the Arabic message
        assert page.locator("main h1").count() == 1  # nothing swapped into the page
    finally:
        ctx.close()


def test_queue_approve_in_place_recounts_and_explains_a_conflict(browser: Any, site: Site) -> None:
    from directory.accounts.models import Account
    from directory.db import session_scope
    from directory.moderation import service as moderation

    engine, sessions = _db(site)
    ctx = browser.new_context(
        viewport=PHONE, service_workers="block", storage_state=site.states["moderator"]
    )
    page = ctx.new_page()
    try:
        first, second = site.extra_changes
        page.goto(f"{site.url}/en/manage/queue")
        counts = page.inner_text("#queue-counts")
        total = int(re.search(r"(\d+) changes? waiting", counts).group(1))  # type: ignore[union-attr]
        # Meanwhile another moderator (the admin) approves the first change.
        with session_scope(sessions) as db:
            admin = db.query(Account).filter_by(email="admin@example.org").one()
            moderation.approve(db, change_id=first, reviewer=admin)
        page.locator(f"#row-{first} form button").click()
        alert = page.locator(f"#row-{first} [role=alert]")
        alert.wait_for(timeout=5000)
        assert "already decided" in alert.inner_text()
        counted = "(n) => document.querySelector('#queue-counts').innerText.includes(n)"
        page.wait_for_function(counted, arg=f"{total - 1} change")
        # The second one is approved in place: the row says so and the counter drops again.
        page.locator(f"#row-{second} form button").click()
        page.locator(f"#row-{second} .m-ok").wait_for(timeout=5000)
        page.wait_for_function(counted, arg=f"{total - 2} change")
        assert page.locator("#queue-counts").count() == 1
    finally:
        ctx.close()
        engine.dispose()
