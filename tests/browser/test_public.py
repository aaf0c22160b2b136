"""The public pages in headless Chromium: accessibility (axe-core), search with and without
JavaScript, filters, language switching, near me with a faked position, the report form, 320 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveSite, axe_violations

pytestmark = pytest.mark.browser


def _first_service_url(page, site: LiveSite, locale: str) -> str:
    page.goto(f"{site.url}/{locale}/search")
    href = page.locator("ol.cards h3 a").first.get_attribute("href")
    assert href
    return site.url + href


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_axe_finds_no_violations(page, live_site: LiveSite, locale):
    urls = [
        f"{live_site.url}/{locale}/",
        f"{live_site.url}/{locale}/search?category=heat-power",
        _first_service_url(page, live_site, locale),
    ]
    for url in urls:
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == locale
        violations = axe_violations(page)
        assert violations == [], f"{url}: {violations}"


def test_search_without_javascript(browser, live_site: LiveSite):
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{live_site.url}/uk/")
        assert page.locator("[data-near-me]").is_hidden()  # needs JS: the place picker is there
        page.fill("#q", "Харків")
        page.press("#q", "Enter")
        page.wait_for_url(re.compile(r"/uk/search\?q="))
        assert page.locator("h2.count").inner_text().startswith("Знайдено")
        assert page.locator("ol.cards > li").count() >= 1
        # a filter is a plain GET form: tick "open now" and submit
        page.locator("details.more > summary").click()
        page.check("input[name=open_now]")
        page.click("details.more button[type=submit]")
        page.wait_for_url(re.compile(r"open_now=1"))
        # the place picker works without JS too
        page.goto(f"{live_site.url}/uk/")
        page.click("form.picker button")
        page.wait_for_url(re.compile(r"/uk/search\?place="))
    finally:
        ctx.close()


def test_search_with_htmx_updates_in_place_and_url(page, live_site: LiveSite):
    page.goto(f"{live_site.url}/en/search")
    page.evaluate("window.__same_page = true")
    total_before = page.locator("h2.count").inner_text()
    with page.expect_response(
        lambda r: "/en/search" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.fill("#q", "zzzqqqxxx")
        page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=zzzqqqxxx"))
    assert page.evaluate("window.__same_page") is True  # no full page load
    assert page.locator("h2.count").inner_text() != total_before
    assert page.locator(".empty").is_visible()
    # the language links followed the new query (out-of-band swap)
    assert "q=zzzqqqxxx" in page.locator("#langs a[hreflang=ar]").get_attribute("href")


def test_filters_with_htmx(page, live_site: LiveSite):
    page.goto(f"{live_site.url}/en/search")
    page.evaluate("window.__same_page = true")
    page.evaluate("document.querySelector('details.more').open = true")
    with page.expect_response(lambda r: "open_now=1" in r.url):
        page.check("input[name=open_now]")
    page.wait_for_url(re.compile(r"open_now=1"))
    assert page.evaluate("window.__same_page") is True
    assert "near=" not in page.url and "q=" not in page.url  # empty fields left out
    page.go_back()
    page.wait_for_url(re.compile(r"/en/search$"))
    assert page.locator("ol.cards > li, .empty").count() >= 1


def test_language_switch_keeps_page_and_query(page, live_site: LiveSite):
    page.goto(f"{live_site.url}/en/search?q=kharkiv&open_now=1")
    page.locator("#langs summary").click()
    page.locator("#langs a[hreflang=ar]").click()
    page.wait_for_url(re.compile(r"/ar/search\?q=kharkiv&open_now=1"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h2.count").inner_text()  # translated count heading


def test_near_me_sends_a_rounded_position(browser, live_site: LiveSite):
    ctx = browser.new_context(
        geolocation={"latitude": 49.993512, "longitude": 36.230417},
        permissions=["geolocation"],
        service_workers="block",
    )
    try:
        page = ctx.new_page()
        page.goto(f"{live_site.url}/en/")
        button = page.locator("form.near [data-near-me]")
        assert button.is_visible()
        button.click()
        page.wait_for_url(re.compile(r"near=49\.99%2C36\.23|near=49\.99,36\.23"))
        assert "sort=distance" in page.url
        assert "49.9935" not in page.url
        assert page.locator("ol.cards > li").count() >= 1
    finally:
        ctx.close()


def test_report_form(page, live_site: LiveSite):
    page.goto(_first_service_url(page, live_site, "en"))
    page.check("input[name=kind][value=locked]")
    page.fill("#f-message", "The door was locked at 10:00.")
    page.click("#report button[type=submit]")
    page.wait_for_url(re.compile(r"/reported$"))
    assert "Thank you" in page.locator("h1").inner_text()
    assert page.context.cookies() == []


@pytest.mark.parametrize("width", [320, 640])  # 640 CSS px = a 1280 px screen at 200 % zoom
def test_no_sideways_scrolling_at_320_px_and_200_percent_zoom(browser, live_site: LiveSite, width):
    ctx = browser.new_context(viewport={"width": width, "height": 640}, service_workers="block")
    try:
        page = ctx.new_page()
        paths = ["/uk/", "/uk/search?category=heat-power", "/ar/search", "/de/about"]
        urls = [live_site.url + p for p in paths] + [_first_service_url(page, live_site, "ar")]
        for url in urls:
            page.goto(url)
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{url} scrolls sideways ({overflow}px)"
    finally:
        ctx.close()


def test_saved_page_opens_offline_with_its_time(browser, live_site: LiveSite):
    ctx = browser.new_context(service_workers="allow")
    try:
        page = ctx.new_page()
        url = f"{live_site.url}/uk/search?category=heat-power"
        page.goto(url)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the service worker, which keeps a copy
        page.wait_for_function(
            "caches.open('pages-v1').then(c => c.keys()).then(k => k.length > 0)", polling=100
        )
        assert page.locator("[data-offline-mark]").is_hidden()
        ctx.set_offline(True)
        page.reload()
        mark = page.locator("[data-offline-mark]")
        assert mark.is_visible()
        assert "Немає з'єднання" in mark.inner_text()
        assert page.locator("[data-offline-mark] time").get_attribute("datetime")
        assert page.locator("ol.cards > li").count() >= 1
    finally:
        ctx.close()


def test_print_view_is_a_paper_list(page, live_site: LiveSite):
    page.goto(f"{live_site.url}/en/search?category=heat-power")
    page.emulate_media(media="print")
    assert page.locator("#filters").is_hidden()
    assert page.locator("header.site").is_hidden()
    assert page.locator(".print-note").is_visible()
    assert page.locator("ol.cards > li").first.is_visible()


def test_no_content_security_policy_violations(browser, live_site: LiveSite):
    ctx = browser.new_context(service_workers="block")  # the real CSP, not bypassed
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_site.url}/en/search")
        with page.expect_response(lambda r: "q=kharkiv" in r.url):
            page.fill("#q", "kharkiv")
            page.press("#q", "Enter")
        page.wait_for_url(re.compile(r"q=kharkiv"))
        page.goto(f"{live_site.url}/ar/")
        assert page.evaluate("typeof htmx") == "object"  # our scripts ran under the CSP
        assert [e for e in errors if "Content Security Policy" in e] == []
    finally:
        ctx.close()


def test_pagination_with_htmx(page, live_site: LiveSite):
    page.goto(f"{live_site.url}/en/search")
    nxt = page.locator("nav.pages a[rel=next]")
    if nxt.count() == 0:
        pytest.fail("the demo data should fill more than one page of results")
    page.evaluate("window.__same_page = true")
    first_before = page.locator("ol.cards h3").first.inner_text()
    nxt.click()
    page.wait_for_url(re.compile(r"page=2"))
    page.wait_for_function(
        "t => document.querySelector('ol.cards h3').innerText !== t", arg=first_before
    )
    assert page.evaluate("window.__same_page") is True


def test_share_button_copies_the_results_link(browser, live_site: LiveSite):
    ctx = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], service_workers="block"
    )
    try:
        page = ctx.new_page()
        page.add_init_script("delete Navigator.prototype.share")  # as on most desktops
        url = f"{live_site.url}/en/search?category=heat-power&open_now=1"
        page.goto(url)
        button = page.locator("[data-share]")
        button.click()
        from playwright.sync_api import expect

        expect(button).to_have_text("Link copied")
        assert page.evaluate("navigator.clipboard.readText()") == url
    finally:
        ctx.close()
