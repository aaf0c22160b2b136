"""Where a confidential place is never reaches a volunteer (issue 18, item 2), nor the public.

A confidential listing gets a unique marker in EVERY field that locates it
(`listings.privacy.LOCATING_FIELDS`: the place's name, other name, description, directions and
URL in every language, the address's attention line, street lines, city, region, state, postal
code, the coordinates, the accessibility notes), a published change since the volunteer's
version (the conflict views) and a pending one. Then every manage page and htmx fragment, the
conflict views, the volunteer's own diffs, every API GET (with the volunteer's token and without),
the HSDS-shaped API documents and every export a volunteer can reach are searched for every
marker — as a
volunteer of the place's region, as one of another region and as an anonymous reader. The same
markers are shown to a moderator of the region (the probes are real).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.exchange.exporters import EXPORT_FORMATS
from directory.listings.models import (
    Accessibility,
    Address,
    Location,
    Place,
    Service,
    Translation,
)
from directory.listings.privacy import LOCATING_FIELDS
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest
from directory.search.index import reindex_services
from tests.factories import make_account, make_city, make_listing, make_token
from tests.manage.conftest import csrf_of, sign_in
from tests.security.walk import Ids, api_urls, bodies, page_urls

LAT, LON = "47.913579", "33.864213"

#: field → marker; every locating field of every record type has one (checked below).
MARKERS: dict[tuple[str, str], str] = {
    ("location", "name"): "Qzxplacename",
    ("location", "alternate_name"): "Qzxaltname",
    ("location", "description"): "Qzxcourtyard",
    ("location", "transportation"): "Qzxbluegate",
    ("location", "url"): "https://qzxplace.example.org/map",
    ("location", "latitude"): LAT,
    ("location", "longitude"): LON,
    ("address", "attention"): "Qzxattention",
    ("address", "address_1"): "Qzxstreet 17",
    ("address", "address_2"): "Qzxbuilding B",
    ("address", "city"): "Qzxtown",
    ("address", "region"): "Qzxdistrict",
    ("address", "state_province"): "Qzxstate",
    ("address", "postal_code"): "QZX-4242",
    ("accessibility", "description"): "Qzxramp",
    ("accessibility", "details"): "Qzxlift",
    ("accessibility", "url"): "https://qzxaccess.example.org",
}
#: translations of the locating texts (every language a volunteer could open)
TRANSLATED = {
    ("location", "name"): "Qzxnazva",
    ("location", "description"): "Qzxpodvir",
    ("location", "transportation"): "Qzxbrama",
    ("location", "alternate_name"): "Qzxinsha",
    ("accessibility", "description"): "Qzxpandus",
}
LATER = {"transportation": "Qzxlatergate", "address_1": "Qzxnewstreet 3"}  # published since
PENDING = "Qzxpendingdirections"

PROBES = [
    re.compile(p, re.IGNORECASE)
    for p in ("qzx", r"47[.,]91\d", r"33[.,]86\d", "4791357", "3386421")
]


def _leaks(text: str) -> list[str]:
    return [p.pattern for p in PROBES if p.search(text)]


@dataclass
class Seeded:
    service: Service
    location: Location
    address: Address
    own: Account  # volunteer of the place's region
    other: Account  # volunteer of another region
    moderator: Account  # of the place's region
    ids: Ids
    region: Place


def test_every_locating_field_has_a_marker() -> None:
    fields = {(etype, name) for etype, names in LOCATING_FIELDS.items() for name in names}
    assert fields == set(MARKERS)


def seed(db: Session) -> tuple[Seeded, Account]:
    region = make_city(db, name="Prykhovana oblast")
    elsewhere = make_city(db, name="Inshyi oblast")
    city = make_city(db, name="Tykhe", region=region, lat="49.1000", lon="32.1000")
    service, loc = make_listing(
        db, region=region, name="Women's safe house", privacy="confidential", phone="+380800500335"
    )
    loc.place_id = city.id
    for (etype, name), value in MARKERS.items():
        if etype == "location":
            setattr(loc, name, Decimal(value) if name in ("latitude", "longitude") else value)
    address = Address(
        location_id=loc.id,
        country="UA",
        **{name: value for (etype, name), value in MARKERS.items() if etype == "address"},
    )
    access = Accessibility(
        location_id=loc.id,
        **{name: value for (etype, name), value in MARKERS.items() if etype == "accessibility"},
    )
    db.add_all([address, access])
    db.flush()
    for (etype, name), value in TRANSLATED.items():
        for locale in ("uk", "pl", "ar"):
            db.add(
                Translation(
                    entity_type=etype,
                    entity_id=loc.id if etype == "location" else access.id,
                    field=name,
                    locale=locale,
                    value=f"{value}{locale}",
                )
            )
    own = make_account(db, "volunteer", [region])
    other = make_account(db, "volunteer", [elsewhere])
    mod_a = make_account(db, "moderator", [region])
    mod_b = make_account(db, "moderator", [region])
    db.flush()
    reindex_services(db, [service.id])
    db.flush()
    return Seeded(
        service,
        loc,
        address,
        own,
        other,
        mod_a,
        Ids(
            services=[str(service.id)],
            locations=[str(loc.id)],
            organizations=[str(service.organization_id)],
            places=[str(region.id), str(city.id)],
            locales=("en", "uk", "ar"),
            formats=sorted(EXPORT_FORMATS),
            search=["safe+house", "Tykhe"],
        ),
        region,
    ), mod_b


def _publish_later_changes(db: Session, s: Seeded, second: Account) -> None:
    """A moderator publishes new directions and a new street after the volunteer's versions,
    and proposes other directions that wait: the conflict views must not show them."""
    cr = moderation.propose(
        db,
        actor=s.moderator,
        entity_type="location",
        kind="update",
        entity_id=s.location.id,
        changes={"transportation": LATER["transportation"]},
    )
    if cr.state != "approved":
        moderation.approve(db, change_id=cr.id, reviewer=second)
    cr = moderation.propose(
        db,
        actor=s.moderator,
        entity_type="address",
        kind="update",
        entity_id=s.address.id,
        changes={"address_1": LATER["address_1"]},
    )
    moderation.approve(db, change_id=cr.id, reviewer=second)
    third = make_account(db, "volunteer", [s.region])
    pending = moderation.propose(
        db,
        actor=third,
        entity_type="location",
        kind="update",
        entity_id=s.location.id,
        changes={"transportation": PENDING},
    )
    assert pending.state == "pending"
    db.flush()


class Walk:
    def __init__(self) -> None:
        self.checked = 0
        self.found: list[str] = []

    def check(self, where: str, content: bytes | str) -> None:
        texts: Iterator[str] = iter([content]) if isinstance(content, str) else bodies(content)
        for text in texts:
            self.checked += 1
            self.found += [f"{where}: {p}" for p in _leaks(text)]


def _get_all(
    client: TestClient, walk: Walk, who: str, urls: list[str], headers: dict[str, str] | None = None
) -> None:
    for url in urls:
        for extra in ({}, {"HX-Request": "true"}):
            r = client.get(url, headers={**(headers or {}), **extra}, follow_redirects=False)
            assert r.status_code < 500, (who, url, r.status_code)
            walk.check(f"{who} GET {url} {extra}", r.content)


def _manage_urls(s: Seeded) -> list[str]:
    sid = s.service.id
    out = []
    for locale in ("en", "uk", "ar"):
        base = f"/{locale}/manage"
        out += [
            f"{base}/",
            f"{base}/?q=safe+house",
            f"{base}/listings/{sid}",
            f"{base}/listings/{sid}/edit",
            f"{base}/proposals",
            f"{base}/new",
            f"{base}/queue",
            f"{base}/reports",
            f"{base}/freshness",
        ]
    return out


def _volunteer_walk(
    client: TestClient,
    db: Session,
    s: Seeded,
    volunteer: Account,
    who: str,
    walk: Walk,
    stale: dict[str, int],
) -> None:
    client.cookies.clear()
    sign_in(client, volunteer.email)
    _get_all(client, walk, who, _manage_urls(s))
    sid = s.service.id
    page_url = f"/en/manage/listings/{sid}"
    token = csrf_of(client.get(page_url).text)
    # the conflict views: a quick update and the full form on versions older than the changes
    r = client.post(
        f"{page_url}/capacity",
        data={"available": "2", "base_version": str(stale["location"]), "csrf_token": token},
    )
    walk.check(f"{who} POST capacity (stale) {r.status_code}", r.content)
    r = client.post(
        f"{page_url}/capacity",
        headers={"HX-Request": "true", "X-CSRF-Token": token},
        data={"available": "2", "base_version": str(stale["location"])},
    )
    walk.check(f"{who} POST capacity htmx (stale) {r.status_code}", r.content)
    edit = client.get(f"{page_url}/edit").text
    form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', edit))
    form.update(
        {
            "v.location": str(stale["location"]),
            "location.capacity_maximum": "41",
            "t.location.transportation.en": "tampered directions",
        }
    )
    r = client.post(f"{page_url}/edit", data=form, follow_redirects=False)
    walk.check(f"{who} POST edit (stale) {r.status_code}", r.content)
    # a proposal of their own through the API, then its diff (their own view of it)
    api = make_token(db, volunteer)
    db.commit()
    auth = {"Authorization": f"Bearer {api}"}
    r = client.patch(
        f"/api/v1/locations/{s.location.id}",
        headers={**auth, "If-Match": f'"{s.location.version}"'},
        json={"transportation": "Tram 5", "capacity_maximum": 44},
    )
    walk.check(f"{who} PATCH location {r.status_code}", r.content)
    if r.status_code == 202:
        cid = r.json()["id"]
        walk.check(
            f"{who} GET own change",
            client.get(f"/api/v1/moderation/change-requests/{cid}", headers=auth).content,
        )
        _get_all(client, walk, who, ["/en/manage/proposals"])
    for path in (
        f"/api/v1/addresses/{s.address.id}",
        f"/api/v1/locations/{s.location.id}",
        f"/api/v1/services/{sid}",
        "/api/v1/me/change-requests",
        "/api/v1/me",
        "/api/v1/moderation/queue",
        "/api/v1/moderation/audit",
    ):
        r = client.get(path, headers=auth)
        assert r.status_code < 500, (who, path)
        walk.check(f"{who} token GET {path}", r.content)
    urls, _doc = api_urls(client, s.ids)
    _get_all(client, walk, f"{who} token", urls, auth)
    for name in sorted(EXPORT_FORMATS):
        for query in ("", "?include_confidential=true"):
            r = client.get(f"/api/v1/export/{name}{query}", headers=auth)
            assert r.status_code < 500
            walk.check(f"{who} export {name}{query} {r.status_code}", r.content)
    # what the volunteer proposed holds no locating field they could not see
    for cr in db.query(ChangeRequest).filter_by(author_id=volunteer.id):
        assert "tampered directions" not in str(cr.payload), (who, cr.payload)


def test_locating_fields_never_reach_volunteers_or_the_public(
    client: TestClient, db: Session
) -> None:
    s, second = seed(db)
    stale = {"location": s.location.version, "address": s.address.version}
    _publish_later_changes(db, s, second)
    db.commit()
    walk = Walk()

    # Sanity: a moderator of the region sees the markers where they edit (the probes are real).
    mod = s.moderator
    mod.totp_secret = pyotp.random_base32()
    db.commit()
    sign_in(client, mod.email, totp_secret=mod.totp_secret)
    edit = client.get(f"/en/manage/listings/{s.service.id}/edit").text
    for marker in (
        LATER["transportation"],
        LATER["address_1"],
        "Qzxtown",
        "QZX-4242",
        "Qzxplacename",
        "Qzxnazvauk",
        "Qzxbramauk",
    ):
        assert marker in edit, marker
    assert _leaks(edit)

    _volunteer_walk(client, db, s, s.own, "volunteer (own region)", walk, stale)
    _volunteer_walk(client, db, s, s.other, "volunteer (other region)", walk, stale)

    client.cookies.clear()
    _get_all(client, walk, "anonymous", page_urls(client.app, s.ids))  # type: ignore[arg-type]
    urls, doc = api_urls(client, s.ids)
    assert any("/services/" in u for u in urls)
    _get_all(client, walk, "anonymous", urls)
    for name in sorted(EXPORT_FORMATS):
        walk.check(f"anonymous export {name}", client.get(f"/api/v1/export/{name}").content)

    assert walk.found == [], "\n".join(walk.found[:40])
    assert walk.checked > 300
    print(f"\nlocating-field walk: {walk.checked} responses checked, 0 leaks")
