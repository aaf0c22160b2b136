"""Scenario 6: a women-and-children shelter with a confidential address. It appears in search
with its region and a hotline only; no page, export, map or API response ever reveals where it
is (its street, its coordinates)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.browser.scenarios.conftest import ScenarioSite, Steps, no_sideways_scroll, phone, text_of

pytestmark = pytest.mark.browser

NAME = "Притулок для жінок і дітей (адреса конфіденційна)"


def _where_it_is(site: ScenarioSite) -> dict[str, str]:
    """The Kyiv shelter's true street address and coordinates (what must never leave)."""
    from sqlalchemy import select

    from directory.listings import models as m

    with site.session() as db:
        kyiv = db.scalar(select(m.Place).where(m.Place.code == "kyiv"))
        loc = db.scalar(
            select(m.Location).where(
                m.Location.privacy == "confidential", m.Location.place_id == kyiv.id
            )
        )
        assert loc is not None and loc.latitude is not None
        addr = db.scalar(select(m.Address).where(m.Address.location_id == loc.id))
        assert addr is not None
        # Nothing public shares this street number (else the check below could not tell).
        same = db.scalars(
            select(m.Address).where(m.Address.address_1 == addr.address_1, m.Address.id != addr.id)
        ).all()
        assert not same, "pick another street for the confidential shelter in the demo"
        service_id = db.scalar(
            select(m.ServiceAtLocation.service_id).where(m.ServiceAtLocation.location_id == loc.id)
        )
        return {
            "street": addr.address_1,
            "lat": f"{loc.latitude:.5f}"[:-1],
            "lon": f"{loc.longitude:.5f}"[:-1],
            "location": str(loc.id),
            "service": str(service_id),
        }


def _reveals(body: str, secret: dict[str, str]) -> list[str]:
    found = [secret["street"]] if secret["street"] in body else []
    street_number = re.escape(secret["street"].split(",")[-1].strip())
    if re.search(r"Прикладна\W{1,3}" + street_number + r"\b", body):
        found.append("street and number")
    if secret["lat"] in body and secret["lon"] in body:  # both, to four decimals (~10 m)
        found.append("coordinates")
    return found


def test_the_confidential_shelter_shows_region_and_hotline_only(
    browser, scenario_site: ScenarioSite
) -> None:
    steps = Steps("06-confidential-shelter")
    secret = _where_it_is(scenario_site)
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        page.goto(f"{scenario_site.url}/uk/search?category=protection&place=kyiv")
        card = page.locator("ol.cards > li").filter(has_text=NAME)
        assert card.count() == 1, text_of(page)[:600]
        steps(page, "in-search", card)
        no_sideways_scroll(page)
        said = " ".join(card.inner_text().split())
        assert "адреса конфіденційна" in said and "Київ" in said, said
        hotline = card.locator("a[href^='tel:']")
        assert hotline.count() == 1 and hotline.get_attribute("href") == "tel:+380440000999"
        assert not _reveals(page.content(), secret)

        card.locator("h3 a").click()
        page.wait_for_url(re.compile(r"/uk/services/"))
        steps(page, "its-page")
        html = page.content()
        assert not _reveals(html, secret), _reveals(html, secret)
        assert (
            page.locator("a[href*='openstreetmap'], a[href^='geo:'], a[href*='maps']").count() == 0
        )
        assert page.locator("main a[href='tel:+380440000999']").count() >= 1
        steps(page, "hotline", page.locator("main a[href='tel:+380440000999']"))

        # Looking for it by its street finds nothing; searching next to it gives no distance.
        page.goto(f"{scenario_site.url}/uk/search?q={secret['street']}")
        assert page.locator("ol.cards > li").filter(has_text=NAME).count() == 0
        page.goto(
            f"{scenario_site.url}/uk/search?near={secret['lat']}1,{secret['lon']}1"
            "&sort=distance&category=protection"
        )
        near = page.locator("ol.cards > li").filter(has_text=NAME)
        for card in near.all():
            where = " ".join(card.locator(".where").inner_text().split())
            # at most an approximate distance to the city, never "0 km" from where it is
            assert not re.search(r"\d\s*м\b", where), where
            km = re.search(r"(\d+(?:[.,]\d+)?)\s*км", where)
            assert km is None or (
                "близько" in where and float(km.group(1).replace(",", ".")) >= 1
            ), where
        assert not _reveals(text_of(page, "ol.cards") if near.count() else "", secret)
        # Every export, the API, the map data and the sitemap, as anyone may fetch them.
        api = scenario_site.url + "/api/v1"
        urls = [
            f"{api}/services/{secret['service']}",
            f"{api}/locations/{secret['location']}",
            f"{api}/locations?limit=100",
            f"{api}/services?place=kyiv&limit=100",
            f"{api}/export/hsds-json",
            f"{api}/export/hxl",
            f"{api}/export/csv",
            f"{api}/export/geojson",
            f"{scenario_site.url}/sitemap.xml",
        ]
        for url in urls:
            response = page.request.get(url)
            assert response.ok, (url, response.status)
            body = response.body().decode("utf-8-sig", "replace")
            assert not _reveals(body, secret), (url, _reveals(body, secret))
        tables = page.request.get(f"{api}/export/hsds-csv")
        assert tables.ok
        with zipfile.ZipFile(io.BytesIO(tables.body())) as zf:
            for name in zf.namelist():
                body = zf.read(name).decode("utf-8-sig", "replace")
                assert not _reveals(body, secret), (name, _reveals(body, secret))
        # An admin export may hold it, but only with an admin token: anonymous is refused.
        refused = page.request.get(f"{api}/export/csv?include_confidential=true")
        assert refused.status in (401, 403)
    finally:
        ctx.close()
