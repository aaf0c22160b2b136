"""Scenario 3: Iryna and two children arrive in Warsaw, the phone's battery low. She needs a
place to sleep tonight that takes children and a dog, and food. She filters "free places",
children, "pets allowed", opens the page; the network drops; the saved page still opens, and
says when it was saved (the service worker)."""

from __future__ import annotations

import re

import pytest

from tests.browser.scenarios.conftest import ScenarioSite, Steps, Taps, no_sideways_scroll, phone

pytestmark = pytest.mark.browser


def test_iryna_finds_beds_for_children_and_a_dog_and_keeps_the_page_offline(
    browser, scenario_site: ScenarioSite
) -> None:
    steps = Steps("03-iryna")
    ctx = phone(browser, "uk-UA", workers=True, timezone="Europe/Warsaw")
    try:
        page = ctx.new_page()
        taps = Taps(page)
        page.goto(f"{scenario_site.url}/uk/")
        steps(page, "home")
        taps.tap(page.get_by_role("link", name="Укриття та житло"))
        page.wait_for_url(re.compile(r"category=shelter"))
        taps.tap("#q")
        page.keyboard.type("діти")
        page.select_option("#f-place", label="Варшава")
        taps.count += 1
        page.wait_for_load_state("networkidle")  # the results follow the place (htmx)
        for name in ("has_capacity", "pets"):
            if page.locator("details.more[open]").count() == 0:
                taps.tap("details.more > summary")
                if not page.locator("details.more").evaluate("d => d.open"):
                    # the tap met the summary just as a late htmx answer replaced it (it is
                    # swapped out of band with the filter count): a race of this fast harness,
                    # not a second tap of hers, so not counted
                    page.wait_for_load_state("networkidle")
                    page.locator("details.more > summary").click()
            taps.tap(f"details.more label:has(input[name={name}])")
            page.wait_for_load_state("networkidle")
        steps(page, "filters")
        taps.tap("details.more button[type=submit]")
        page.wait_for_url(re.compile(r"has_capacity=1"))
        no_sideways_scroll(page)
        cards = page.locator("ol.cards > li")
        steps(page, "beds-tonight", cards)
        assert cards.count() >= 1
        for card in cards.all():
            text = " ".join(card.inner_text().split())
            assert re.search(r"\d+ вільн(е|і|их) міс(це|ця|ць)", text), text
            assert re.search("Варшава|Warszawa", text), text
        first = cards.first
        name = first.locator("h3").inner_text().strip()
        taps.tap(first.locator("h3 a"))
        page.wait_for_url(re.compile(r"/uk/services/"))
        service_url = page.url
        main = " ".join(page.locator("main").inner_text().split())
        assert "тварин" in main and "діт" in main and "їжа" in main, main[:600]
        # The service worker keeps what she opened; once it controls the page, this copy is kept.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
        page.reload()
        steps(page, "the-place")
        assert taps.count <= 10, taps.count

        # The network drops (no signal, battery saver): the saved page still opens, with its time.
        # Later (the page's short HTTP max-age has run out: the browser cache is emptied here).
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        ctx.set_offline(True)
        page.goto(service_url)
        mark = page.locator("[data-offline-mark]")
        mark.wait_for(state="visible", timeout=10_000)
        said = " ".join(mark.inner_text().split())
        assert said.startswith("Немає з'єднання") or "збережено" in said, said
        assert re.search(r"\d{1,2}:\d{2}", said), said  # when it was saved
        assert name in page.locator("main h1").inner_text()
        steps(page, "offline-saved-copy")
        # A page she never opened: the offline page in Ukrainian, listing what is saved.
        from playwright.sync_api import Error

        try:
            page.goto(f"{scenario_site.url}/uk/search?category=food&place=warsaw")
        except Error as exc:
            pytest.fail(f"a page never saved shows the browser's error, not an offline page: {exc}")
        offline = " ".join(page.locator("body").inner_text().split())
        steps(page, "offline-not-saved")
        assert "ERR_INTERNET_DISCONNECTED" not in offline, offline[:300]
        assert page.locator("html").get_attribute("lang") == "uk"
        assert page.locator(f"a[href$='{service_url.split('/uk/', 1)[1]}']").count() >= 1, offline[
            :600
        ]
        ctx.set_offline(False)
    finally:
        ctx.close()
