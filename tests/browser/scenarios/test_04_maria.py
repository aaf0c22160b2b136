"""Scenario 4: Maria, volunteer at a collective centre in Lviv, on her phone between tasks:
marks the centre full, then two hours later sets 12 free beds. Ten taps at most. She sees her
change waiting and then approved; the public page then says 12 free places, not "full"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.scenarios.conftest import (
    PASSWORD,
    ScenarioSite,
    Steps,
    Taps,
    approve_in_queue,
    no_sideways_scroll,
    phone,
    signed_in_phone,
    text_of,
)

pytestmark = pytest.mark.browser

CENTRE = "гуртожитку № 1"


def _moderator_approves(browser, site: ScenarioSite, steps: Steps, name: str) -> str:
    ctx, page = signed_in_phone(browser, site, "oksana", "uk")
    try:
        return approve_in_queue(page, site, CENTRE, steps=steps, name=name)
    finally:
        ctx.close()


def test_maria_marks_the_centre_full_then_twelve_free_beds_in_ten_taps(
    browser, scenario_site: ScenarioSite
) -> None:
    steps = Steps("04-maria")
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        taps = Taps(page)
        # The link from her team chat: sign in (the email field has the focus).
        page.goto(f"{scenario_site.url}/uk/manage/")
        page.wait_for_url(re.compile(r"/uk/manage/login"))
        steps(page, "sign-in")
        # the browser moves the focus (autofocus) a moment after the page loads: typing before
        # that lost the first letters on a busy machine
        expect(page.locator("#email")).to_be_focused()
        page.keyboard.type(scenario_site.people["maria"].email)
        taps.tap("#password")
        page.keyboard.type(PASSWORD)
        taps.tap("form.m-form button[type=submit]")
        page.wait_for_url(re.compile(r"/uk/manage/$"))
        no_sideways_scroll(page)
        expect(page.locator("#q")).to_be_focused()  # her start page puts her in the search
        page.keyboard.type("гуртожиток Львів")
        taps.enter()
        result = page.locator("#results a.m-listing-link").filter(has_text=CENTRE)
        result.first.wait_for()
        steps(page, "her-centre")
        taps.tap(result)
        page.wait_for_url(re.compile(r"/uk/manage/listings/"))
        listing_url = page.url
        service_id = listing_url.rstrip("/").rsplit("/", 1)[-1]
        steps(page, "listing")
        # Full: one tap.
        taps.tap("button[name=status][value=full]")
        page.locator("#quick .m-ok").wait_for()
        steps(page, "marked-full")
        taps.tap(page.get_by_role("link", name="Мої пропозиції"))
        page.wait_for_url(re.compile(r"/uk/manage/proposals"))
        mine = page.locator("main li").filter(has_text=CENTRE).first
        assert "Чекає на перевірку" in mine.inner_text(), text_of(page)[:500]
        steps(page, "full-waiting")

        diff = _moderator_approves(browser, scenario_site, steps, "moderator-reads-full")
        assert "Немає місць" in diff or "Повн" in diff, diff[:600]

        # Two hours later: her centre is first on her start page; 12 free beds, three taps.
        page.goto(f"{scenario_site.url}/uk/manage/")
        taps.tap(page.locator("main a", has_text=CENTRE))
        page.wait_for_url(re.compile(r"/uk/manage/listings/"))
        taps.tap("#available")
        page.keyboard.press("Control+A")
        page.keyboard.type("12")
        taps.tap("#quick form[action$='/capacity'] button[type=submit]")
        page.locator("#quick .m-ok").wait_for()
        steps(page, "twelve-free-beds")
        assert taps.count <= 10, f"Maria needed {taps.count} taps"
    finally:
        ctx.close()

    diff = _moderator_approves(browser, scenario_site, steps, "moderator-reads-12")
    assert "12" in diff and "→ unchanged" not in diff and "→ без змін" not in diff, diff[:600]

    ctx, page = signed_in_phone(browser, scenario_site, "maria", "uk")
    try:
        page.goto(f"{scenario_site.url}/uk/manage/proposals")
        mine = page.locator("main li").filter(has_text=CENTRE)
        states = [" ".join(li.locator(".m-badge").first.inner_text().split()) for li in mine.all()]
        assert states and all(s == "Схвалено" for s in states), states
        steps(page, "both-approved")
        # What a reader now sees: 12 free places, the centre not "full".
        page.goto(f"{scenario_site.url}/uk/services/{service_id}")
        public = text_of(page)
        steps(page, "public-page")
        assert re.search(r"12 вільних місць", public), public[:800]
        assert "Немає місць" not in public and "Вільних місць немає" not in public, public[:800]
    finally:
        ctx.close()
