"""Scenario 1: Olena, 67, Kharkiv, January, power cut since morning. Android Go phone, 2G,
Ukrainian, no JavaScript. She opens the link a neighbour sent, taps "Heat & power", picks
Kharkiv, sees three open warming points with a generator and hot water, "verified … ago" on
each, and calls one. Pages load in seconds on a bad connection."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.scenarios.conftest import ScenarioSite, Steps, Taps, no_sideways_scroll, phone

pytestmark = pytest.mark.browser

#: Chrome DevTools' "Slow 2G"-ish profile: 300 ms round trip, 40 kB/s down, 20 kB/s up.
TWO_G = {"offline": False, "latency": 300, "downloadThroughput": 40_000, "uploadThroughput": 20_000}


def test_olena_calls_an_open_warming_point_in_kharkiv(browser, scenario_site: ScenarioSite) -> None:
    steps = Steps("01-olena")
    ctx = phone(browser, "uk-UA", js=False)
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", TWO_G)
        received: list[int] = []
        page.on("response", lambda r: received.append(len(r.body())) if r.ok else None)
        taps = Taps(page)

        # The neighbour's link: the home page, in Ukrainian.
        started = time.monotonic()
        page.goto(f"{scenario_site.url}/uk/")
        took = time.monotonic() - started
        assert took < 8, f"the home page took {took:.1f} s on 2G"
        assert page.locator("html").get_attribute("lang") == "uk"
        steps(page, "home")
        no_sideways_scroll(page)

        taps.tap(page.get_by_role("link", name="Тепло і світло"))
        page.wait_for_url(re.compile(r"/uk/search\?category=heat-power"))
        steps(page, "heat-and-power")

        # Kharkiv, and only what she needs: open now, heating, generator power, water.
        page.select_option("#f-place", label="Харків")
        taps.count += 1
        taps.tap("details.more > summary")
        for name in ("open_now", "heating", "power", "water"):
            taps.tap(f"details.more label:has(input[name={name}])")
        steps(page, "filters")
        started = time.monotonic()
        taps.tap("details.more button[type=submit]")
        page.wait_for_url(re.compile(r"open_now=1"))
        took = time.monotonic() - started
        assert took < 8, f"the results took {took:.1f} s on 2G"
        no_sideways_scroll(page)
        steps(page, "three-open-points", page.locator("ol.cards > li").nth(1))

        heading = " ".join(page.locator("main h1").first.inner_text().split())
        assert "Харків" in heading, heading
        cards = page.locator("ol.cards > li")
        assert cards.count() == 3, [c.inner_text()[:60] for c in cards.all()]
        hours_ago = []
        for card in cards.all():
            text = " ".join(card.inner_text().split())
            assert "Пункт незламності" in text, text
            assert re.search(r"Відчинено|Цілодобово", card.locator(".state").inner_text()), text
            checked = re.search(r"Перевірено (\d+) годин[иу]? тому", text)
            assert checked, text
            hours_ago.append(int(checked.group(1)))
            assert card.locator("a[href^='tel:+38057']").count() == 1, text
        assert sorted(hours_ago) == [2, 3, 5], hours_ago
        # The notice about today's power cuts is at the top, in Ukrainian.
        assert "Графік відключень світла в Харкові" in page.locator(".notices").inner_text()

        # She calls the one verified most recently: one tap on its number.
        freshest = cards.filter(has_text="Перевірено 2 години тому")
        call = freshest.locator("a[href^='tel:']")
        number = call.get_attribute("href") or ""
        assert re.fullmatch(r"tel:\+38057\d{7}", number), number
        shown = " ".join(call.inner_text().split())
        assert shown.replace(" ", "") == number.removeprefix("tel:"), shown  # +380 57 000 0106
        freshest.locator("h3 a").click()
        page.wait_for_url(re.compile(r"/uk/services/"))
        steps(page, "warming-point")
        text = " ".join(page.locator("main").inner_text().split())
        assert "Перевірено" in text or "перевірив" in text, text[:400]
        assert page.locator(f"main a[href='{number}']").count() >= 1
        # Light enough for 2G: every response of the three pages together.
        assert sum(received) < 400_000, sum(received)
    finally:
        ctx.close()
