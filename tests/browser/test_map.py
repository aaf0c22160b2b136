"""The interactive map in headless Chromium (issue 14): with the site's own Content-Security-
Policy (not bypassed), no request leaves our origin; the map draws the search's places, pans
(new data for the new box) and a tapped marker opens its card."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import LiveSite

pytestmark = pytest.mark.browser
TIMEOUT = 15_000


@pytest.fixture()
def strict_page(browser: Any) -> Any:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="en-GB", service_workers="block"
    )
    yield ctx.new_page()
    ctx.close()


def test_interactive_map_pans_and_opens_a_card(strict_page: Any, live_site: LiveSite) -> None:
    page = strict_page
    foreign: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_site.url, "data:")) else foreign.append(r.url),
    )
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_site.url}/en/search?view=map")
    page.wait_for_selector("figure.map.live[data-loaded]", timeout=TIMEOUT)
    # the drawn map gives way to the interactive one on screen
    assert page.locator(".map-draw").is_hidden()
    # one "Near me" on the map view (the search form's own one was a second, a screen apart)
    assert page.locator("[data-near-me]:visible").count() == 1
    pins = page.locator(".leaflet-marker-icon")
    assert pins.count() >= 1
    numbered = page.locator(".map-pin.numbered")
    assert numbered.count() >= 1
    # pan, as a keyboard user does (the map's arrow keys), then by dragging: each time the
    # data for the new box is asked for
    page.screenshot(path="/tmp/map-live-before.png")
    with page.expect_response(lambda r: "/search/map-data?" in r.url, timeout=TIMEOUT) as moved:
        page.locator(".map-live").focus()
        page.keyboard.press("ArrowRight")
    assert moved.value.status == 200 and "bbox=" in moved.value.url
    box = page.locator(".map-live").bounding_box()
    assert box is not None
    x, y = box["x"] + 20, box["y"] + box["height"] - 60
    with page.expect_response(lambda r: "/search/map-data?" in r.url, timeout=TIMEOUT) as dragged:
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 120, y - 60, steps=10)
        page.mouse.up()
    assert dragged.value.url != moved.value.url
    # back to the first view and tap the marker numbered 1: its card opens under the map
    page.goto(f"{live_site.url}/en/search?view=map")
    page.wait_for_selector("figure.map.live[data-loaded]", timeout=TIMEOUT)
    first = page.locator(".map-pin.numbered").filter(has_text=re.compile(r"^1$"))
    assert first.count() == 1
    first.dispatch_event("click")  # (numbered pins may overlap at this zoom)
    card = page.locator("#map-card .card h3 a")
    card.wait_for(timeout=TIMEOUT)
    listed = page.locator("ol.cards li").first.locator("h3 a").inner_text()
    assert card.inner_text() == listed
    assert not foreign, foreign
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_map_view_without_javascript_is_the_drawn_map(browser: Any, live_site: LiveSite) -> None:
    ctx = browser.new_context(java_script_enabled=False, service_workers="block")
    page = ctx.new_page()
    try:
        page.goto(f"{live_site.url}/ar/search?view=map")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("svg.map-svg").is_visible()
        markers = page.locator("svg.map-svg a.m")
        assert markers.count() >= 1
        href = markers.last.get_attribute("href")
        # a marker is a link to its service, as its card in the list is
        assert page.locator(f'ol.cards h3 a[href="{href}"]').count() == 1
        page.locator(".views a").first.click()  # back to the list, same search
        assert "view=map" not in page.url and page.locator("svg.map-svg").count() == 0
    finally:
        ctx.close()
