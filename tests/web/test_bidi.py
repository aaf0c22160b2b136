"""Bidirectional text on the service page: opening-hour spans written as each locale writes an
interval (CLDR, Babel's format_interval) and isolated in `<bdi>`, so Arabic hours read
"9:00 ص – 6:00 م" right to left instead of being scrambled; times inside sentences isolated too;
addresses and phone numbers never mixed into the surrounding text's direction."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from directory import i18n
from directory.listings.models import Phone, Schedule
from tests.factories import first_location, make_city, make_service


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "9:00\u202fAM\u2009–\u20096:00\u202fPM"),
        ("uk", "09:00–18:00"),
        ("de", "09:00–18:00 Uhr"),
        ("ar", "9:00\u00a0ص\u2009–\u20096:00\u00a0م"),
    ],
)
def test_time_range_follows_the_locale_clock(locale: str, expected: str) -> None:
    i18n.set_locale(locale)
    try:
        got = i18n.format_time_range(dt.time(9), dt.time(18))
    finally:
        i18n.set_locale("en")
    # CLDR spaces (narrow/no-break) differ between releases: compare the visible characters
    assert re.sub(r"\s", " ", got) == re.sub(r"\s", " ", expected)


def test_arabic_service_page_isolates_hours_times_address_and_phones(client, db) -> None:
    region = make_city(db, name="Kharkiv region")
    city = make_city(db, name="Kharkiv", region=region)
    svc = make_service(
        db,
        name="Пункт Kowalski",
        city=city,
        street="вул. Сумська 1",
        address_city="Харків",
        service_fields={
            "status": "temporarily closed",
            "status_until": dt.datetime.now(dt.UTC) + dt.timedelta(hours=3),
        },
    )
    loc = first_location(db, svc)
    db.add(
        Schedule(
            location_id=loc.id,
            freq="WEEKLY",
            byday="MO,TU,WE,TH,FR",
            opens_at=dt.time(9),
            closes_at=dt.time(18),
        )
    )
    db.add(Phone(service_id=svc.id, number="+380 57 000 0099"))
    db.flush()
    page = client.get(f"/ar/services/{svc.id}").text
    cells = re.findall(r"<td><bdi>([^<]+)</bdi></td>", page)
    assert cells, "opening hours are not isolated"
    assert all("ص" in c and "م" in c for c in cells), cells  # 12-hour Arabic clock, as CLDR
    assert 'dir="ltr">9:00' not in page  # never forced left-to-right
    # the "until" time inside the Arabic sentence is isolated
    assert re.search(r"<strong>[^<]*<bdi>[^<]+</bdi>", page)
    # the address (Cyrillic in an Arabic page) is one isolated unit; the phone reads left to right
    assert re.search(r"<bdi>\s*вул\. Сумська 1", page)
    assert re.search(r'<span dir="ltr">[^<]*57', page)


def test_lists_on_the_service_page_use_the_locale_conjunction(client, db) -> None:
    """A Latin comma inside Arabic text ("الروسية, الأوكرانية"): lists follow CLDR."""
    from directory.listings.models import Language

    svc = make_service(db, name="Languages")
    db.add_all([Language(service_id=svc.id, code="ru"), Language(service_id=svc.id, code="uk")])
    db.flush()
    ar = client.get(f"/ar/services/{svc.id}").text
    assert "الروسية والأوكرانية" in ar, re.findall(r"<dd>[^<]*ية[^<]*</dd>", ar)
    en = client.get(f"/en/services/{svc.id}").text
    assert "Russian and Ukrainian" in en
