"""schema.org JSON-LD on public service pages, read as search engines read it: extracted from the
HTML with extruct, expanded with a JSON-LD processor (pyld). Confidential places carry no address
and no coordinates anywhere in the markup; the site map lists every language version."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree

import extruct
import pytest
from fastapi.testclient import TestClient
from pyld import jsonld
from sqlalchemy.orm import Session

from directory.config import UI_LOCALES
from directory.listings.models import Language, ScheduleException
from tests.factories import first_location
from tests.web.seed import Seed

SCHEMA = "https://schema.org/"


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    # No network in tests: schema.org's context, reduced to what our markup uses (its @vocab).
    assert url.rstrip("/") == "https://schema.org", url
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": {"@vocab": SCHEMA}},
    }


def _json_ld(client: TestClient, locale: str, service_id: Any) -> tuple[str, dict[str, Any]]:
    r = client.get(f"/{locale}/services/{service_id}")
    assert r.status_code == 200, r.text[:300]
    items = extruct.extract(r.text, base_url=str(r.url), syntaxes=["json-ld"])["json-ld"]
    assert len(items) == 1, items
    return r.text, items[0]


def _expanded(item: dict[str, Any]) -> dict[str, Any]:
    out = jsonld.expand(item, {"documentLoader": _loader})
    assert len(out) == 1
    return out[0]


def test_exact_place_has_type_name_phone_address_geo_hours(
    client: TestClient, db: Session, data: Seed
) -> None:
    loc = first_location(db, data.warming)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    db.add(ScheduleException(location_id=loc.id, date=tomorrow, closed=True, reason="repairs"))
    db.add(Language(service_id=data.warming.id, code="uk"))
    db.commit()
    _, item = _json_ld(client, "uk", data.warming.id)
    assert item["@type"] == "CivicStructure"  # a warming point
    assert item["name"] == "Пункт обігріву, школа 12"
    assert item["telephone"].replace(" ", "").startswith("+38057")
    assert item["address"]["streetAddress"] == "vul. Demo 1"
    assert item["address"]["addressCountry"] == "UA"
    assert item["geo"] == {"@type": "GeoCoordinates", "latitude": 49.99, "longitude": 36.23}
    assert item["isAccessibleForFree"] is True
    assert [lang["alternateName"] for lang in item["availableLanguage"]] == ["uk"]
    hours = item["openingHoursSpecification"]
    assert len(hours[0]["dayOfWeek"]) == 7  # round the clock
    closure = [h for h in hours if "validFrom" in h]
    assert closure == [
        {
            "@type": "OpeningHoursSpecification",
            "validFrom": tomorrow.isoformat(),
            "validThrough": tomorrow.isoformat(),
            "opens": "00:00",
            "closes": "00:00",
            "description": {"@value": "repairs", "@language": "en"},
        }
    ]

    node = _expanded(item)
    assert node["@type"] == [SCHEMA + "CivicStructure"]
    # in the page's language: the name is tagged uk, the untranslated reason keeps its own tag
    assert node[SCHEMA + "name"] == [{"@value": "Пункт обігріву, школа 12", "@language": "uk"}]
    closed = [h for h in node[SCHEMA + "openingHoursSpecification"] if SCHEMA + "validFrom" in h]
    assert closed[0][SCHEMA + "description"] == [{"@value": "repairs", "@language": "en"}]


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_texts_are_in_the_page_language(client: TestClient, data: Seed, locale: str) -> None:
    _, item = _json_ld(client, locale, data.warming.id)
    node = _expanded(item)
    name = node[SCHEMA + "name"][0]
    # the English name is the source text: on the Arabic page it is a fallback, tagged en
    assert name == {"@value": "Warming point School 12", "@language": "en"}


def test_consulate_is_a_government_office(client: TestClient, data: Seed) -> None:
    _, item = _json_ld(client, "en", data.consulate.id)
    assert item["@type"] == "GovernmentOffice"
    _, shelter = _json_ld(client, "en", data.closed.id)
    assert shelter["@type"] == "EmergencyService"


@pytest.mark.parametrize("locale", UI_LOCALES)
def test_confidential_place_has_no_address_or_geo_anywhere(
    client: TestClient, data: Seed, locale: str
) -> None:
    html, item = _json_ld(client, locale, data.confidential.id)
    assert "address" not in item and "geo" not in item
    for secret in ("Secret street 7", "50.45", "30.52", "+380 57 999 9999", "380579999999"):
        assert secret not in html, secret
    assert item["telephone"].replace(" ", "").endswith("800000777")  # the hotline is public


def test_markup_cannot_end_the_script_element(client: TestClient, db: Session, data: Seed) -> None:
    data.warming.description = "</script><script>alert(1)</script> & more"
    db.commit()
    html, item = _json_ld(client, "en", data.warming.id)
    assert "</script><script>alert(1)" not in html
    assert item["description"] == "</script><script>alert(1)</script> & more"


def test_sitemap_lists_every_language_version(client: TestClient, data: Seed) -> None:
    r = client.get("/sitemap.xml")
    assert r.status_code == 200
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ElementTree.fromstring(r.content)  # noqa: S314 - our own output
    urls = {u.findtext("s:loc", namespaces=ns): u for u in root.findall("s:url", ns)}
    for locale in UI_LOCALES:
        page = next(loc for loc in urls if loc.endswith(f"/{locale}/services/{data.warming.id}"))
        alternates = {
            link.get("hreflang"): link.get("href") for link in urls[page].findall("x:link", ns)
        }
        assert set(UI_LOCALES) <= set(alternates), alternates
        assert alternates[locale] == page
