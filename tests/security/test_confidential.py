"""Confidential locations: their address and coordinates appear in no public page, no public API
response, no export, no sitemap and no OpenAPI example. Approximate ones show no street and only
rounded coordinates. The walk is built from the route table, so new routes are covered by itself.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.exchange.exporters import EXPORT_FORMATS, export
from directory.exchange.records import ExportOptions
from directory.listings.models import Address, Location, Phone, Service, ServiceAtLocation
from directory.search.index import reindex_services
from tests.factories import make_city, make_service
from tests.security.walk import (
    OPENAPI_URL,
    Ids,
    api_urls,
    bodies,
    page_urls,
    third_party_resources,
)

CONF_STREET, CONF_STREET_2, CONF_POSTCODE = "Tajemna", "Bunkerna 4", "61987"
CONF_LAT, CONF_LON = "48.987654", "35.123987"
APPROX_STREET, APPROX_LAT, APPROX_LON = "Pryhovana", "50.031743", "36.229168"
EXACT_STREET = "Vidkryta"

#: Every way the confidential whereabouts could show: the street words, the postcode, the
#: directions, and the coordinates at any precision down to ~1 km, with "." or "," decimals.
#: Case-sensitive on purpose: the walk searches for "tajemna" / "TAJEMNA" (the search folds case),
#: so the page echoing the reader's own query is not mistaken for a leak of the stored "Tajemna".
CONFIDENTIAL_PROBES = [
    re.compile(p)
    for p in (
        CONF_STREET,
        CONF_STREET_2,
        CONF_POSTCODE,
        "Tajemna bakery",
        "behind the red gate",
        r"48[.,]98\d",
        r"(?<!\d)48[.,]99(?!\d)",
        r"35[.,]12[34]\d",
        r"(?<!\d)35[.,]12(?!\d)",
        r"4898765",
        r"3512398",
    )
]
APPROXIMATE_PROBES = [
    re.compile(p)
    for p in (APPROX_STREET, r"50[.,]0317", r"36[.,]2291", r"50[.,]032(?!\d)", r"36[.,]229(?!\d)")
]


@dataclass
class Seeded:
    confidential: Service
    approximate: Service
    exact: Service
    ids: Ids


def _location_of(db: Session, service: Service) -> Location:
    return db.execute(
        select(Location)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(ServiceAtLocation.service_id == service.id)
    ).scalar_one()


def seed(db: Session) -> Seeded:
    region = make_city(db, name="Testova oblast")
    city = make_city(
        db,
        name="Zelenohai",
        aliases="Зеленогай Zielonogaj",
        region=region,
        lat="50.0000",
        lon="36.2000",
    )
    conf = make_service(
        db,
        name="Women and children safe house",
        description="Call the hotline first.",
        org_name="Safe house network",
        city=city,
        region=region,
        lat=CONF_LAT,
        lon=CONF_LON,
        privacy="confidential",
        street=f"{CONF_STREET} street 17",
        address_city="Zelenohai",
        service_fields={"audience": "women children"},
    )
    conf_loc = _location_of(db, conf)
    conf_loc.description = "Tajemna bakery courtyard, behind the red gate"
    conf_loc.transportation = "Tram 5 to Tajemna"
    address = db.execute(select(Address).where(Address.location_id == conf_loc.id)).scalar_one()
    address.address_2, address.postal_code, address.attention = (
        CONF_STREET_2,
        CONF_POSTCODE,
        "Tajemna",
    )
    db.add(
        Phone(
            location_id=conf_loc.id,
            service_id=conf.id,
            number="+380800500335",
            description="Hotline",
        )
    )
    approx = make_service(
        db,
        name="Approximate warming point",
        org_name="Warming volunteers",
        city=city,
        region=region,
        lat=APPROX_LAT,
        lon=APPROX_LON,
        privacy="approximate",
        street=f"{APPROX_STREET} street 3",
        address_city="Zelenohai",
    )
    exact = make_service(
        db,
        name="Open kitchen",
        org_name="Kitchen volunteers",
        city=city,
        region=region,
        lat="50.011100",
        lon="36.222200",
        privacy="exact",
        street=f"{EXACT_STREET} street 5",
        address_city="Zelenohai",
    )
    db.flush()
    reindex_services(db, [conf.id, approx.id, exact.id])
    db.flush()
    services = [conf, approx, exact]
    ids = Ids(
        services=[str(s.id) for s in services],
        locations=[str(_location_of(db, s).id) for s in services],
        organizations=[str(s.organization_id) for s in services],
        places=[str(region.id), str(city.id)],
        formats=sorted(EXPORT_FORMATS),
        search=[
            "Zelenohai",
            "tajemna",
            "TAJEMNA",
            "pryhovana",
            "safe+house",
            "Зеленогай",
            "bunkerna",
        ],
    )
    return Seeded(conf, approx, exact, ids)


def _leaks(text: str, probes: list[re.Pattern[str]]) -> list[str]:
    return [p.pattern for p in probes if p.search(text)]


class Walk:
    def __init__(self) -> None:
        self.checked = 0
        self.found: list[str] = []

    def check(self, where: str, text: str) -> None:
        self.checked += 1
        for label, probes in (
            ("confidential", CONFIDENTIAL_PROBES),
            ("approximate", APPROXIMATE_PROBES),
        ):
            self.found += [f"{where}: {label} {p}" for p in _leaks(text, probes)]


def test_confidential_whereabouts_never_leave_moderator_views(
    client: TestClient, db: Session
) -> None:
    seeded = seed(db)
    walk = Walk()

    # Sanity: the walker sees street addresses where they are public, so it would see a leak.
    exact_page = client.get(f"/en/services/{seeded.exact.id}")
    assert exact_page.status_code == 200 and EXACT_STREET in exact_page.text
    conf_page = client.get(f"/uk/services/{seeded.confidential.id}")
    assert conf_page.status_code == 200 and "+380800500335".replace("+", "") in re.sub(
        r"\D", "", conf_page.text
    )  # the hotline is public

    urls = page_urls(client.app, seeded.ids)  # type: ignore[arg-type]
    assert any("/services/" in u for u in urls) and any("search?q=" in u for u in urls)
    assert "/sitemap.xml" in urls
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers, follow_redirects=False)
            assert response.status_code < 500, (url, response.status_code)
            for text in bodies(response.content):
                walk.check(url, text)
    pages_checked = walk.checked

    api, doc = api_urls(client, seeded.ids)
    if doc is not None:
        walk.check(OPENAPI_URL, str(doc))  # examples and descriptions
        for url in api:
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            for text in bodies(response.content):
                walk.check(url, text)

    for name in sorted(EXPORT_FORMATS):
        content = b"".join(export(db, name, ExportOptions()))
        for text in bodies(content):
            walk.check(f"export {name}", text)

    assert walk.found == []
    assert pages_checked >= 6 * 5
    print(
        f"\nconfidential walk: {walk.checked} responses/documents checked, "
        f"{len(urls)} page URLs, {len(api)} API URLs, {len(EXPORT_FORMATS)} exports, "
        f"{len(CONFIDENTIAL_PROBES) + len(APPROXIMATE_PROBES)} probes each, 0 leaks"
    )


def test_exports_for_moderators_do_include_them(db: Session) -> None:
    """The probes are real: the confidential (moderator) export does contain the address."""
    seed(db)
    content = b"".join(export(db, "hsds-json", ExportOptions(include_confidential=True)))
    text = "".join(bodies(content))
    assert _leaks(text, CONFIDENTIAL_PROBES)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_anonymous_readers_get_no_cookies_and_no_third_party_requests(
    client: TestClient, db: Session, locale: str
) -> None:
    seeded = seed(db)
    urls = [
        u
        for u in page_urls(client.app, seeded.ids)  # type: ignore[arg-type]
        if u.startswith(f"/{locale}/") or u[1:3] not in ("en", "uk", "ru", "pl", "de", "ar")
    ]
    assert len(urls) >= 5
    for url in urls:
        client.cookies.clear()
        response = client.get(url, follow_redirects=True)
        assert "set-cookie" not in response.headers, url
        for r in response.history:
            assert "set-cookie" not in r.headers, url
        if response.headers.get("content-type", "").startswith("text/html"):
            assert third_party_resources(response.text) == [], url
            assert "<iframe" not in response.text
            assert 'http-equiv="refresh"' not in response.text.lower()
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "http" not in csp
    assert uuid.UUID(str(seeded.confidential.id))


def test_third_party_detector_catches_what_it_should() -> None:
    html = (
        '<link rel="canonical" href="https://help.example.org/en/">'
        '<link rel="stylesheet" href="https://cdn.example.com/a.css">'
        '<script src="//cdn.example.com/x.js"></script><script src="/static/app.js"></script>'
        '<img src="http://testserver/static/a.png"><img srcset="https://img.example/1.png 2x">'
        '<a href="https://partner.example.org/">a link is not a request</a>'
        '<div style="background: url(https://track.example/p.gif)"></div>'
    )
    assert third_party_resources(html) == [
        "https://cdn.example.com/a.css",
        "//cdn.example.com/x.js",
        "https://img.example/1.png",
        "https://track.example/p.gif",
    ]
