"""Scenario 5: Taras, moderator for Kyiv region, in the evening. He clears a queue of twenty
proposals: a new shelter, capacity updates, temporary closures, a phone number change (which
needs a second moderator), and a reader's report "found locked" about a basement shelter. He
reads diffs, not JSON. Then he marks three stale listings verified after calling them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.scenarios.conftest import ScenarioSite, Steps, phone, signed_in_phone, text_of

pytestmark = pytest.mark.browser

NEW_SHELTER = "Укриття в паркінгу (нове, демо)"
NEW_NUMBER = "+380440009321"


def _arrange_the_evening_queue(site: ScenarioSite) -> dict[str, Any]:
    """What volunteers, another moderator and a reader did during the day in Kyiv."""
    from sqlalchemy import select

    from directory.accounts.models import Account
    from directory.demo.loader import demo_id
    from directory.listings import models as m
    from directory.manage import forms, new_listing
    from directory.moderation import service as moderation

    with site.session() as db:
        pavlo = db.scalar(select(Account).where(Account.email == site.people["pavlo"].email))
        olha = db.scalar(select(Account).where(Account.email == site.people["olha"].email))
        kyiv = db.scalar(select(m.Place).where(m.Place.code == "kyiv"))
        assert pavlo and olha and kyiv
        # 1: a new shelter, proposed whole (service, place, address, phone, hours).
        new_listing.submit(
            db,
            actor=pavlo,
            typed={
                "organization_id": str(demo_id("org:basement")),
                "name": NEW_SHELTER,
                "description": "Підземний паркінг, 200 місць, вода і лавки.",
                "address": "вул. Демонстраційна, 12",
                "city": "Київ",
                "phone": "+380440009100",
                "hours": "MO-SU 00:00-23:59",
            },
            categories=["shelter", "shelter.air-raid"],
            locale="uk",
            timezone="Europe/Kyiv",
        )
        # 10: capacity updates for the places that count their beds.
        places = db.scalars(
            select(m.Location)
            .where(
                m.Location.place_id == kyiv.id,
                m.Location.capacity_maximum.is_not(None),
                m.Location.privacy != "confidential",
            )
            .order_by(m.Location.name)
        ).all()
        assert len(places) >= 10, len(places)
        for i, loc in enumerate(places[:10]):
            moderation.propose(
                db,
                actor=pavlo,
                entity_type="location",
                kind="capacity",
                entity_id=loc.id,
                base_version=loc.version,
                source="web",
                changes=forms.capacity_payload(min(5 + i, loc.capacity_maximum or 0), None),
            )
        # 8: temporary closures (power cut) of places without beds.
        others = db.scalars(
            select(m.Service)
            .join(m.ServiceAtLocation)
            .join(m.Location)
            .where(
                m.Location.place_id == kyiv.id,
                m.Location.capacity_maximum.is_(None),
                m.Location.privacy == "exact",
                m.Service.status == "active",
            )
            .order_by(m.Service.name)
        ).all()
        now = dt.datetime.now(dt.UTC)
        closed = []
        for svc in others[:8]:
            changes, texts = forms.status_payload(
                quick="paused",
                reason_code="power",
                reason_text="",
                duration="3",
                now=now,
                tz="Europe/Kyiv",
                locale="uk",
            )
            moderation.propose(
                db,
                actor=pavlo,
                entity_type="service",
                kind="status",
                entity_id=svc.id,
                base_version=svc.version,
                source="web",
                changes=changes,
                translations=texts,
            )
            closed.append(svc.name)
        assert len(closed) == 8
        # 1: Olha (moderator) took a call: the charging point has a new number. Held for a second.
        charging = db.scalar(
            select(m.Service).where(m.Service.id == demo_id("service:kyiv:charging:1"))
        )
        if charging is None:
            charging = db.scalar(
                select(m.Service).where(m.Service.name == "Пункт зарядки в бібліотеці № 1")
            )
        assert charging is not None
        tel = db.scalar(
            select(m.Phone)
            .join(m.Location, m.Phone.location_id == m.Location.id)
            .join(m.ServiceAtLocation)
            .where(m.ServiceAtLocation.service_id == charging.id)
        )
        assert tel is not None
        old_number = tel.number
        cr = moderation.propose(
            db,
            actor=olha,
            entity_type="phone",
            kind="update",
            entity_id=tel.id,
            base_version=tel.version,
            changes={"number": NEW_NUMBER},
            source="web",
        )
        assert str(cr.state) == "pending", "a moderator's own phone change must wait for a second"
        # A reader found a basement shelter locked.
        basement = db.scalar(
            select(m.Service)
            .where(m.Service.name == "Укриття в підвалі школи № 2")
            .join(m.ServiceAtLocation)
            .join(m.Location)
            .where(m.Location.place_id == kyiv.id)
        )
        assert basement is not None
        moderation.report(
            db,
            service_id=basement.id,
            kind="locked",
            locale="uk",
            text="Прийшли під час тривоги — двері зачинені, ніхто не відчинив.",
        )
        return {"charging": charging.id, "old_number": old_number, "basement": basement.name}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_taras_clears_the_evening_queue(browser, scenario_site: ScenarioSite) -> None:
    steps = Steps("05-taras")
    arranged = _arrange_the_evening_queue(scenario_site)
    ctx, page = signed_in_phone(browser, scenario_site, "taras", "uk")
    try:
        page.goto(f"{scenario_site.url}/uk/manage/queue")
        steps(page, "queue")
        counts = text_of(page, "#queue .m-counts")
        assert "20 змін чекають" in counts, counts
        assert "Потрібен другий модератор: 2" in counts, counts  # the new shelter and the phone
        assert re.search(r"1 (відкрита )?скарг", counts), counts

        # The new shelter: the whole listing on one page, read as a table, approved at once.
        row = page.locator("#queue li[id^=row-]").filter(has_text=NEW_SHELTER)
        assert row.count() == 1
        row.get_by_role("link", name="Відкрити зміну").click()
        page.wait_for_url(re.compile(r"/uk/manage/queue/"))
        main = text_of(page)
        assert "вул. Демонстраційна, 12" in main and NEW_SHELTER in main, main[:800]
        assert "{" not in page.locator("table.m-diff").first.inner_text()  # a diff, not JSON
        steps(page, "new-shelter", page.locator("table.m-diff"))
        page.click("form[action$='/approve'] button")
        page.wait_for_url(re.compile(r"done=approved"))

        # The phone change: marked, old and new number side by side; he is the second moderator.
        page.goto(f"{scenario_site.url}/uk/manage/queue")
        row = page.locator("#queue li[id^=row-]").filter(has=page.locator(".m-badge-sensitive"))
        assert row.count() == 1, text_of(page, "#queue")[:800]
        row.get_by_role("link", name="Відкрити зміну").click()
        page.wait_for_url(re.compile(r"/uk/manage/queue/"))
        diff = page.locator("table.m-diff").first
        cells = [_digits(c) for c in diff.locator("td").all_inner_texts()]
        assert _digits(arranged["old_number"]) in cells and _digits(NEW_NUMBER) in cells, cells
        assert "Перевірте уважно:" in text_of(page), text_of(page)[:600]
        steps(page, "phone-change", diff)
        page.click("form[action$='/approve'] button")
        page.wait_for_url(re.compile(r"done=approved"))

        # Capacity updates and closures: diffs read, approved one by one until the queue is empty.
        for _ in range(30):
            page.goto(f"{scenario_site.url}/uk/manage/queue")
            rows = page.locator("#queue li[id^=row-]")
            if rows.count() == 0:
                break
            rows.first.get_by_role("link", name="Відкрити зміну").click()
            page.wait_for_url(re.compile(r"/uk/manage/queue/"))
            table = page.locator("table.m-diff").first.inner_text()
            assert "{" not in table and "→ без змін" not in table, table
            if _ == 0:
                steps(page, "capacity-diff", page.locator("table.m-diff"))
            page.click("form[action$='/approve'] button")
            page.wait_for_url(re.compile(r"done=approved"))
        page.goto(f"{scenario_site.url}/uk/manage/queue")
        assert "Нічого не чекає на перевірку" in text_of(page), text_of(page)[:600]
        steps(page, "queue-empty")

        # The report: a basement shelter found locked.
        page.goto(f"{scenario_site.url}/uk/manage/reports")
        report = page.locator("main li[id^=report-]").filter(has_text=arranged["basement"])
        assert report.count() == 1
        said = " ".join(report.inner_text().split())
        assert "зачинен" in said.lower() and "двері зачинені" in said, said
        steps(page, "found-locked", report)
        report.get_by_role("button", name="Опрацьовано").click()
        expect(report.get_by_role("button")).to_have_count(0, timeout=10_000)

        # Three stale listings in Kyiv: he calls them, then marks each one verified.
        page.goto(f"{scenario_site.url}/uk/manage/freshness")
        kyiv = page.locator("main section").filter(
            has=page.get_by_role("heading", name=re.compile(r"^місто Київ"))
        )
        stale = kyiv.locator("li[id^=stale-]")
        before = stale.count()
        assert before >= 3, text_of(page)[:800]
        steps(page, "stale-in-kyiv", kyiv)
        for left in (before - 1, before - 2, before - 3):
            kyiv.locator("li[id^=stale-] form button").first.click()
            expect(kyiv.locator("li[id^=stale-] form button")).to_have_count(left, timeout=10_000)
        steps(page, "three-verified", kyiv)
        page.goto(f"{scenario_site.url}/uk/manage/freshness")
        kyiv = page.locator("main section").filter(
            has=page.get_by_role("heading", name=re.compile(r"^місто Київ"))
        )
        assert kyiv.locator("li[id^=stale-]").count() == before - 3, text_of(page)[:600]
    finally:
        ctx.close()

    # Readers see the new number only now, after the second moderator, and the new shelter.
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        page.goto(f"{scenario_site.url}/uk/services/{arranged['charging']}")
        assert page.locator(f"main a[href='tel:{NEW_NUMBER}']").count() >= 1
        page.goto(f"{scenario_site.url}/uk/search?q=паркінг&place=kyiv")
        assert page.locator("ol.cards > li").filter(has_text=NEW_SHELTER).count() == 1
    finally:
        ctx.close()
