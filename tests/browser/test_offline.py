"""Offline, with the real service worker (sw.js) in headless Chromium: a page never saved on
this device answers with the offline page in the reader's language, listing the pages saved
here with their times (not the browser's error page); a saved page opens with its "saved on"
note; the web app manifest makes the directory installable in each language."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.conftest import LiveSite

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
LOCALES = ("en", "uk", "ru", "pl", "de", "ar")


def _controlled(page: Any) -> None:
    """Wait until the worker is active, has kept the offline pages, and controls this page."""
    page.wait_for_function(
        """async () => {
            const reg = await navigator.serviceWorker.ready;
            const cache = await caches.open('offline-v1');
            return reg.active && (await cache.keys()).length === 6;
        }""",
        timeout=20000,
    )
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10000)


def test_never_saved_page_offline_lists_saved_pages_in_the_readers_language(
    browser: Any, live_site: LiveSite
) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="uk-UA")  # service workers allowed
    page = ctx.new_page()
    try:
        page.goto(f"{live_site.url}/uk/")
        _controlled(page)
        # redirects still work through the worker (the root sends the reader to a language)
        page.goto(f"{live_site.url}/")
        assert re.search(r"/[a-z]{2}/$", page.url), page.url
        service = f"{live_site.url}/uk/services/{live_site.service_ids[0]}"
        page.goto(service)
        title = page.title().split(" · ")[0]
        # the worker keeps the page as it passes through (a moment after the load)
        page.wait_for_function(
            """async (url) => !!(await (await caches.open('pages-v1')).match(url))""",
            arg=service,
            timeout=10000,
        )
        ctx.set_offline(True)
        response = page.goto(f"{live_site.url}/uk/about")
        assert response is not None and response.ok
        assert page.locator("html").get_attribute("lang") == "uk"
        assert page.inner_text("h1") == "Ви офлайн"
        saved = page.locator("[data-saved-pages] li")
        saved.first.wait_for(timeout=5000)
        texts = saved.all_inner_texts()
        assert any(title in t for t in texts), texts
        assert all(re.search(r"збережено .*\d", t) for t in texts), texts  # with the time
        assert page.locator("[data-saved-none]").is_hidden()
        # a saved page still opens, and says when it was saved
        page.goto(service)
        assert page.locator("[data-offline-mark]").is_visible()
        assert page.title().startswith(title)
        # Arabic: the offline page of that language, right to left
        page.goto(f"{live_site.url}/ar/search?q=never-saved")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("[data-saved-pages]").count() == 1
        assert page.inner_text("h1") == "أنت غير متصل بالإنترنت"
    finally:
        ctx.set_offline(False)
        ctx.close()


def test_offline_page_without_saved_pages_says_so(browser: Any, live_site: LiveSite) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block", java_script_enabled=False)
    page = ctx.new_page()
    try:
        page.goto(f"{live_site.url}/de/offline")
        assert page.inner_text("h1") == "Sie sind offline"
        assert page.locator("[data-saved-none]").is_visible()
    finally:
        ctx.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_manifest_installs_the_directory_in_each_language(
    page: Any, live_site: LiveSite, locale: str
) -> None:
    page.goto(f"{live_site.url}/{locale}/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == f"/{locale}/manifest.webmanifest"
    answer = page.request.get(live_site.url + href)
    assert answer.ok and answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.text())
    assert manifest["start_url"] == f"/{locale}/" and manifest["display"] == "standalone"
    assert manifest["lang"] == locale and manifest["dir"] == ("rtl" if locale == "ar" else "ltr")
    assert manifest["name"] == page.inner_text(".brand span")  # in the page's language
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = page.request.get(live_site.url + icon["src"])
        assert got.ok and got.headers["content-type"].startswith(icon["type"]), icon
