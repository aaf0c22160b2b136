"""Scenario 10: someone who wants to harm. With a volunteer account in Kyiv they try to change a
shelter's phone number to their own, to inject script into a listing, to find out volunteers'
e-mail addresses, and to find the confidential shelter. Every attempt fails, visibly to
moderators: the phone change waits for a moderator, marked; script shows as text; sign-in says the
same for a known and an unknown address; the shelter's address never reaches a volunteer."""

from __future__ import annotations

import re

import pytest

from tests.browser.scenarios.conftest import (
    ScenarioSite,
    Steps,
    phone,
    signed_in_phone,
    text_of,
)

pytestmark = pytest.mark.browser

THEIR_NUMBER = "+380671234567"
SCRIPT = '<script>alert("x")</script><img src=x onerror="alert(1)">Теплий чай'
SHELTER = "Укриття в підвалі школи № 1"


def _login_says(browser, site: ScenarioSite, email: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        page.goto(f"{site.url}/uk/manage/login")
        page.fill("#email", email)
        page.fill("#password", "not the password at all")
        with page.expect_response(re.compile(r"/uk/manage/login$")) as answer:
            page.click("form.m-form button[type=submit]")
        page.wait_for_load_state()
        return answer.value.status, text_of(page, "main")
    finally:
        ctx.close()


def test_the_attacker_fails_and_moderators_see_it(browser, scenario_site: ScenarioSite) -> None:
    steps = Steps("10-attacker")
    site = scenario_site.url
    dialogs: list[str] = []
    ctx, page = signed_in_phone(browser, scenario_site, "mallory", "uk")
    try:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{site}/uk/manage/?q=" + SHELTER.replace(" ", "+") + "+Київ")
        page.locator("#results a.m-listing-link").filter(has_text=SHELTER).first.click()
        page.wait_for_url(re.compile(r"/uk/manage/listings/"))
        service_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        page.goto(f"{site}/uk/manage/listings/{service_id}/edit")
        tel = page.locator("input[type=tel]").first
        old_number = tel.input_value()
        assert old_number, "the edit page shows the current number"
        tel.fill(THEIR_NUMBER)
        description = page.locator("textarea[name='t.service.description.uk']")
        description.fill(SCRIPT)
        steps(page, "their-number-and-script", tel)
        with page.expect_navigation():
            page.locator("form.m-edit button[type=submit]").click()
        steps(page, "sent")
        # Nothing is published: readers still get the shelter's own number.
        public = phone(browser, "uk-UA")
        try:
            reader = public.new_page()
            reader.goto(f"{site}/uk/services/{service_id}")
            assert reader.locator(f"a[href='tel:{THEIR_NUMBER}']").count() == 0
            assert reader.locator("a[href^='tel:']").count() >= 1
        finally:
            public.close()

        # The confidential shelter: a volunteer finds the listing but never where it is.
        page.goto(f"{site}/uk/manage/?q=Притулок+для+жінок")
        found = page.locator("#results a.m-listing-link").filter(has_text="Притулок для жінок")
        if found.count():
            found.first.click()
            page.wait_for_url(re.compile(r"/uk/manage/listings/"))
            listing = page.content()
            assert "Прикладна, 99" not in listing and "50.4719" not in listing
            page.goto(page.url + "/edit")
            edit = page.content()
            assert "Прикладна, 99" not in edit and "50.4719" not in edit
            steps(page, "confidential-as-volunteer")
        # Other people's e-mail addresses appear nowhere a volunteer can look.
        for path in ("/uk/manage/", "/uk/manage/proposals", f"/uk/manage/listings/{service_id}"):
            page.goto(site + path)
            html = page.content()
            for who in ("maria", "taras", "olha", "oksana", "dmytro", "admin"):
                assert scenario_site.people[who].email not in html, (path, who)
        # The moderators' pages and the accounts API are closed to them.
        response = page.goto(f"{site}/uk/manage/queue")
        assert response is not None and response.status == 403
        for url in (f"{site}/api/v1/admin/accounts", f"{site}/api/v1/accounts"):
            status = page.request.get(url).status
            assert status in (401, 403, 404), (url, status)
        assert dialogs == []
    finally:
        ctx.close()

    # Sign-in answers the same for a volunteer's address and for an unknown one.
    known = _login_says(browser, scenario_site, scenario_site.people["maria"].email)
    unknown = _login_says(browser, scenario_site, "nobody.here@example.org")
    assert known == unknown, (known, unknown)
    assert known[0] in (400, 401, 422)

    # Taras sees the attempt: marked, old and new number side by side; he rejects the number.
    ctx, page = signed_in_phone(browser, scenario_site, "taras", "uk")
    try:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{site}/uk/manage/queue")
        row = (
            page.locator("#queue li[id^=row-]")
            .filter(has_text=SHELTER)
            .filter(has=page.locator(".m-badge-sensitive"))
        )
        assert row.count() >= 1, text_of(page, "#queue")[:800]
        steps(page, "moderator-queue", row)
        row.first.get_by_role("link", name="Відкрити зміну").click()
        page.wait_for_url(re.compile(r"/uk/manage/queue/"))
        main = text_of(page)
        assert "Перевірте уважно:" in main, main[:600]
        digits = [re.sub(r"\D", "", c) for c in page.locator("table.m-diff td").all_inner_texts()]
        assert re.sub(r"\D", "", THEIR_NUMBER) in digits, digits
        steps(page, "moderator-reads-the-number", page.locator("table.m-diff"))
        page.fill(
            "textarea[name=reason], input[name=reason]",
            "Номер не підтвердився: зателефонував на відомий номер укриття.",
        )
        with page.expect_navigation():
            page.click("form[action$='/reject'] button")
        # The description: the injected markup is shown as text, never run; he lets it through
        # to prove readers see it as text too.
        page.goto(f"{site}/uk/manage/queue")
        row = page.locator("#queue li[id^=row-]").filter(has_text=SHELTER)
        assert row.count() == 1, text_of(page, "#queue")[:800]
        row.get_by_role("link", name="Відкрити зміну").click()
        page.wait_for_url(re.compile(r"/uk/manage/queue/"))
        main = text_of(page)
        assert "Теплий чай" in main, main[:900]  # the markup escaped (or removed), never run
        assert page.locator("main script, main img[src=x]").count() == 0
        steps(page, "moderator-reads-the-script", page.locator("table.m-diff"))
        with page.expect_navigation():
            page.click("form[action$='/approve'] button")
        assert dialogs == []
    finally:
        ctx.close()
    public = phone(browser, "uk-UA")
    try:
        reader = public.new_page()
        reader.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        reader.goto(f"{site}/uk/services/{service_id}")
        said = text_of(reader)
        assert reader.locator(f"a[href='tel:{THEIR_NUMBER}']").count() == 0
        assert "Теплий чай" in said, said[:600]
        assert reader.locator("main script, main img[src=x]").count() == 0
        steps(reader, "reader-sees-text", reader.get_by_text("Теплий чай", exact=False))
        assert dialogs == []
    finally:
        public.close()
