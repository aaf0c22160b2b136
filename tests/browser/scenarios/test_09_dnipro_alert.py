"""Scenario 9: an air-raid alert in Dnipro. A moderator for the region posts it from the phone
app; within a minute readers in Dnipro see it on every page about their region — home, results,
service pages — in their language and in Kyiv time, with the shelters open during alerts first;
readers in Lviv do not. When it ends, the pages say so."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_time

from tests.browser.scenarios.conftest import (
    ScenarioSite,
    Steps,
    no_sideways_scroll,
    phone,
    signed_in_phone,
    text_of,
)

pytestmark = pytest.mark.browser

TITLES = {
    "uk": "Повітряна тривога: Дніпро, сценарій 9",
    "en": "Air-raid alert: Dnipro, scenario 9",
    "ar": "إنذار غارة جوية: دنيبرو، السيناريو 9",
}
BODY_UK = "Пройдіть до найближчого укриття. Відбій оголосять тут."


def _kyiv_minutes(locale: str = "uk") -> set[str]:
    """'12:48' and the minutes either side, as the reader's locale writes Kyiv's time."""
    from directory.listings.hours import zone

    now = dt.datetime.now(dt.UTC)
    return {
        format_time(
            now + dt.timedelta(minutes=d), "short", tzinfo=zone("Europe/Kyiv"), locale=locale
        )
        for d in (-1, 0, 1, 2)
    }


def _first_notice(page) -> str:  # type: ignore[no-untyped-def]
    return " ".join(page.locator(".notices").first.inner_text().split())


def test_a_moderator_posts_the_dnipro_alert_and_dnipro_readers_see_it(
    browser, scenario_site: ScenarioSite
) -> None:
    steps = Steps("09-dnipro-alert")
    site = scenario_site.url
    ctx, page = signed_in_phone(browser, scenario_site, "dmytro", "uk")
    try:
        page.goto(f"{site}/uk/manage/notices")
        steps(page, "notices")
        # The demo's earlier alert for the region is over: he ends it first.
        for _ in range(5):
            earlier = (
                page.locator("main li")
                .filter(has_text="Повітряна тривога")
                .get_by_role("button", name="Завершити зараз")
            )
            if earlier.count() == 0:
                break
            with page.expect_navigation():
                earlier.first.click()
        page.locator("details.m-card > summary").click()
        page.select_option("#n-kind", "alert")
        page.select_option("#n-severity", "danger")
        page.select_option("#n-region", label="Дніпропетровська область")
        form_text = text_of(page, "details.m-card")
        assert "Київ" in form_text, form_text[:400]  # times are typed in the region's zone
        page.fill("#n-title-uk", TITLES["uk"])
        page.fill("#n-body-uk", BODY_UK)
        page.locator(".m-translations details > summary").click()  # the other languages
        page.fill("#n-title-en", TITLES["en"])
        page.fill("#n-title-ar", TITLES["ar"])
        steps(page, "new-alert", page.locator("#n-title-uk"))
        with page.expect_navigation():
            page.locator("details.m-card form > button[type=submit]").click()
        posted_at = _kyiv_minutes()
        row = page.locator("main li").filter(has_text=TITLES["uk"])
        assert row.count() == 1, text_of(page)[:800]
        said = " ".join(row.inner_text().split())
        assert "Дніпропетровська область" in said and "(час: Київ)" in said, said
        assert any(t in said for t in posted_at), (said, posted_at)
        steps(page, "published", row)
    finally:
        ctx.close()

    # Readers in Dnipro: home (region chosen), results, a service page — at the top, in Kyiv time.
    reader = phone(browser, "uk-UA")
    try:
        page = reader.new_page()
        for name, path in (
            ("home", "/uk/?place=dnipro"),
            ("results", "/uk/search?place=dnipro"),
            ("results-food", "/uk/search?category=food&place=dnipro"),
        ):
            response = page.goto(site + path)
            assert response is not None
            age = re.search(r"max-age=(\d+)", response.headers.get("cache-control", ""))
            assert age is None or int(age.group(1)) <= 60, response.headers  # within a minute
            top = _first_notice(page)
            assert top.startswith(TITLES["uk"]) or TITLES["uk"] in top.split("·")[0], top[:300]
            assert BODY_UK in top and "(час: Київ)" in top, top[:400]
            assert any(t in top for t in posted_at), (top[:400], posted_at)
            no_sideways_scroll(page)
            steps(page, f"reader-{name}")
        service = page.locator("ol.cards h3 a").first
        service.click()
        page.wait_for_url(re.compile(r"/uk/services/"))
        assert TITLES["uk"] in _first_notice(page)
        steps(page, "reader-service-page")

        # The one big action: the nearest shelters open during alerts, first.
        page.goto(f"{site}/uk/search?place=dnipro")
        page.locator(".notices .danger a.btn.primary").filter(
            has_text=re.compile("укриття")
        ).first.click()
        page.wait_for_url(re.compile(r"/uk/search\?"))
        cards = page.locator("ol.cards > li")
        assert cards.count() >= 3
        for card in cards.all()[:3]:
            text = " ".join(card.inner_text().split())
            assert "Працює під час повітряної тривоги" in text and "Дніпро" in text, text
        steps(page, "shelters-open-during-alerts", cards)
    finally:
        reader.close()

    # Other languages: the same alert in English and Arabic; nothing of it in Lviv.
    for locale, title in (("en", TITLES["en"]), ("ar", TITLES["ar"])):
        ctx = phone(browser, locale)
        try:
            page = ctx.new_page()
            page.goto(f"{site}/{locale}/search?place=dnipro")
            assert title in _first_notice(page)
            steps(page, f"reader-{locale}")
        finally:
            ctx.close()
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        for path in (
            "/uk/?place=lviv",
            "/uk/search?place=lviv",
            "/uk/search?category=shelter&place=lviv",
        ):
            page.goto(site + path)
            assert TITLES["uk"] not in page.content(), path
            assert page.locator(".notices .danger").count() == 0, path
        steps(page, "lviv-reader")
    finally:
        ctx.close()

    # The all-clear: the moderator ends it; Dnipro's pages say so, in Kyiv time.
    ctx, page = signed_in_phone(browser, scenario_site, "dmytro", "uk")
    try:
        page.goto(f"{site}/uk/manage/notices")
        row = page.locator("main li").filter(has_text=TITLES["uk"])
        with page.expect_navigation():
            row.get_by_role("button", name="Завершити зараз").click()
        ended_at = _kyiv_minutes()
        assert "Завершено" in " ".join(
            page.locator("main li").filter(has_text=TITLES["uk"]).inner_text().split()
        )
    finally:
        ctx.close()
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        for path in ("/uk/?place=dnipro", "/uk/search?place=dnipro"):
            page.goto(site + path)
            ended = page.locator(".notices .ended").filter(has_text=TITLES["uk"])
            assert ended.count() == 1, _first_notice(page)[:400]
            said = " ".join(ended.inner_text().split())
            assert "відбій о" in said and "(час: Київ)" in said, said
            assert any(t in said for t in ended_at), (said, ended_at)
            assert page.locator(".notices .danger").filter(has_text=TITLES["uk"]).count() == 0
        steps(page, "all-clear")
    finally:
        ctx.close()
