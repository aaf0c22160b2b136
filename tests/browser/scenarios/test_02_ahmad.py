"""Scenario 2: Ahmad, 24, a student from Syria in Odesa, reads Arabic (right to left). After an
overnight strike his consular section closed today: the directory says so in Arabic, with the
reason and until when (Odesa's time), and points to the consulate that is open instead."""

from __future__ import annotations

import re

import pytest
from babel.dates import format_time

from tests.browser.scenarios.conftest import ScenarioSite, Steps, Taps, no_sideways_scroll, phone

pytestmark = pytest.mark.browser


def _closed_until(site: ScenarioSite) -> str:
    """'11:30 م': when the Odesa consulate opens again, in Odesa's time, as Arabic writes it."""
    from sqlalchemy import select

    from directory.listings.hours import zone
    from directory.listings.models import Service

    with site.session() as db:
        until = db.scalar(select(Service.status_until).where(Service.name.like("%أوديسا%")))
    assert until is not None
    return format_time(until, "short", tzinfo=zone("Europe/Kyiv"), locale="ar")


def test_ahmad_learns_in_arabic_why_the_consulate_is_closed_and_where_to_go(
    browser, scenario_site: ScenarioSite
) -> None:
    steps = Steps("02-ahmad")
    until = _closed_until(scenario_site)
    ctx = phone(browser, "ar")
    try:
        page = ctx.new_page()
        taps = Taps(page)
        page.goto(f"{scenario_site.url}/ar/")
        assert page.locator("html").get_attribute("dir") == "rtl"
        steps(page, "home")
        no_sideways_scroll(page)

        taps.tap(page.get_by_role("link", name="الخدمات القنصلية"))
        page.wait_for_url(re.compile(r"/ar/search\?category=consular"))
        page.select_option("#f-place", label="أوديسا")
        taps.count += 1
        taps.tap("form.filters button[type=submit], details.more button[type=submit]")
        page.wait_for_url(re.compile(r"place=odesa"))
        steps(page, "consulates-in-odesa")
        no_sideways_scroll(page)
        # The regional notice says it at the top of the page, in Arabic.
        assert (
            "القسم القنصلي (تجريبي) في أوديسا مغلق اليوم" in page.locator(".notices").inner_text()
        )
        closed = page.locator("ol.cards > li").filter(has_text="أوديسا").first
        state = " ".join(closed.locator(".state").inner_text().split())
        assert "مغلق مؤقتًا" in state and until in state, (state, until)

        taps.tap(closed.locator("h3 a"))
        page.wait_for_url(re.compile(r"/ar/services/"))
        steps(page, "closed-today")
        no_sideways_scroll(page)
        banner = page.locator(".banner[role=alert]")
        said = " ".join(banner.inner_text().split())
        assert "مغلق مؤقتًا" in said and until in said, said
        assert "تضررت نوافذ المبنى" in said, said  # the reason, in Arabic
        instead = banner.get_by_role("link", name=re.compile("كييف"))
        assert instead.count() == 1, said

        taps.tap(instead)
        page.wait_for_url(re.compile(r"/ar/services/"))
        steps(page, "open-instead")
        main = " ".join(page.locator("main").inner_text().split())
        assert "القسم القنصلي (تجريبي) — كييف" in main
        assert page.locator(".banner[role=alert]").count() == 0, main[:300]
        assert page.locator("main a[href^='tel:']").count() >= 1
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert taps.count <= 6, taps.count
    finally:
        ctx.close()
