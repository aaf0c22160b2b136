"""The issue's "done when", tried as a new user would, on a 320 px screen."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveSite

pytestmark = pytest.mark.browser


def test_olena_finds_an_open_warming_point_in_kharkiv_without_javascript(browser, live_site):
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{live_site.url}/uk/")
        page.locator("ul.cats a[href$='category=heat-power']").click()
        page.wait_for_url(re.compile(r"/uk/search\?category=heat-power"))
        page.select_option("#f-place", label="Харків")
        page.locator("details.more > summary").click()
        page.check("input[name=open_now]")
        page.click("details.more button[type=submit]")
        page.wait_for_url(re.compile(r"open_now=1"))
        cards = page.locator("ol.cards > li")
        assert cards.count() >= 1
        first = cards.first
        assert re.search(r"Відчинено|Цілодобово", first.locator(".state").inner_text())
        assert first.locator("a[href^='tel:']").count() == 1  # one tap to call
        assert re.search(r"Перевірено|Ще не перевірено", first.inner_text())
        shared = page.url  # the link to share is the address itself
        assert "category=heat-power" in shared and "open_now=1" in shared
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        ctx.close()


def test_ahmad_sees_in_arabic_that_a_consulate_is_closed_and_where_to_go(browser, live_site: LiveSite):
    ctx = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = ctx.new_page()
        page.goto(f"{live_site.url}/ar/search?category=consular")
        closed = page.locator("ol.cards > li.temporary").first
        assert "مغلق مؤقتًا" in closed.locator(".state").inner_text()
        closed.locator("h3 a").click()
        banner = page.locator(".banner[role=alert]")
        assert "مغلق مؤقتًا" in banner.inner_text()
        instead = banner.locator("a")
        assert instead.count() == 1  # the consulate that is open instead
        instead.click()
        page.wait_for_url(re.compile(r"/ar/services/"))
        assert page.locator("html").get_attribute("dir") == "rtl"
    finally:
        ctx.close()
