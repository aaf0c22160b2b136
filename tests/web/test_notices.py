"""Notices reach the right readers everywhere they look (scenario 9): the home page of a reader
who chose or located a region, results filtered to a place inside it, near-me results located in
it and the service page of each listing there show its notices; readers elsewhere do not; a
reader with no region gets one compact line per kind. Times in the region's zone, named."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from directory.listings.models import Notice, NoticeKind, Severity
from tests.factories import categorise, make_city, make_service, make_term, translate


def _setup(db: Session) -> dict:  # type: ignore[type-arg]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    dnipro = make_city(db, name="Dnipropetrovsk Oblast", lat="48.46", lon="35.04")
    dnipro_city = make_city(db, name="Dnipro", region=dnipro, lat="48.46", lon="35.04")
    kharkiv = make_city(db, name="Kharkiv Oblast", lat="49.99", lon="36.23")
    lviv = make_city(db, name="Lviv Oblast", lat="49.84", lon="24.03")
    shelter = make_term(db, code="shelter", name="Shelter")
    bunker = make_term(db, code="shelter.air-raid", name="Air-raid shelter", parent=shelter)
    always = {"open_24_7": True}
    open_in_alerts = make_service(
        db,
        name="Metro station shelter",
        city=dnipro_city,
        lat="48.47",
        lon="35.05",
        location_fields=always,
        service_fields={"open_during_alert": True},
    )
    basement = make_service(
        db,
        name="Basement shelter",
        city=dnipro_city,
        lat="48.46",
        lon="35.04",
        location_fields=always,
    )
    in_lviv = make_service(
        db,
        name="Lviv shelter",
        city=None,
        region=lviv,
        lat="49.84",
        lon="24.03",
        location_fields=always,
    )
    for svc in (open_in_alerts, basement, in_lviv):
        categorise(db, svc, bunker)
    alert = Notice(
        region_id=dnipro.id,
        kind=NoticeKind.alert,
        severity=Severity.danger,
        title="Air-raid alert in Dnipro",
        body="Go to a shelter.",
        valid_from=now - dt.timedelta(minutes=10),
        valid_until=now + dt.timedelta(hours=2),
    )
    kharkiv_alert = Notice(
        region_id=kharkiv.id,
        kind=NoticeKind.alert,
        severity=Severity.danger,
        title="Air-raid alert in Kharkiv",
        valid_from=now - dt.timedelta(minutes=5),
    )
    national = Notice(
        kind=NoticeKind.general,
        severity=Severity.info,
        title="Hotline 1547 works",
        valid_from=now - dt.timedelta(days=1),
    )
    db.add_all([alert, kharkiv_alert, national])
    db.flush()
    translate(db, alert, "title", "uk", "Повітряна тривога у Дніпрі")
    from directory.search.index import reindex_services

    reindex_services(db, [open_in_alerts.id, basement.id, in_lviv.id])
    db.flush()
    return {
        "dnipro": dnipro,
        "city": dnipro_city,
        "kharkiv": kharkiv,
        "lviv": lviv,
        "alert": alert,
        "open": open_in_alerts,
        "basement": basement,
        "in_lviv": in_lviv,
    }


def _top(html: str) -> str:
    """The notices section at the top of the page."""
    m = re.search(r'<section class="notices".*?</section>', html, re.S)
    return m.group(0) if m else ""


def test_home_without_a_region_shows_one_line_per_kind_not_a_stack(client, db: Session) -> None:
    s = _setup(db)
    r = client.get("/en/")
    top = _top(r.text)
    assert "Hotline 1547 works" in top  # nationwide: in full
    assert "Air-raid alert in Dnipro" not in top and 'class="notice danger"' not in top
    line = re.search(r'<p class="notice-line danger">.*?</p>', top, re.S)
    assert line is not None
    assert "Air-raid alert:" in line.group(0)
    assert line.group(0).index("Dnipropetrovsk Oblast") < line.group(0).index("Kharkiv Oblast")
    assert f'href="/en/?place={s["dnipro"].code}"' in line.group(0)
    assert "choose your region" in line.group(0)
    # the search form comes right after the notices: nothing pushes it down
    assert r.text.index('class="notices"') < r.text.index('role="search"')


def test_home_of_a_reader_in_dnipro_shows_the_alert_in_full(client, db: Session) -> None:
    s = _setup(db)
    for params in ({"place": s["dnipro"].code}, {"place": s["city"].code}, {"near": "48.47,35.06"}):
        top = _top(client.get("/en/", params=params).text)
        assert "Air-raid alert in Dnipro" in top and "Go to a shelter." in top, params
        assert "Air-raid alert in Kharkiv" not in top and "Kharkiv Oblast" not in top, params
        assert "Hotline 1547 works" in top  # nationwide notices everywhere
        assert "(Kyiv time)" in top
    lviv = _top(client.get("/en/", params={"place": s["lviv"].code}).text)
    assert "Dnipro" not in lviv and "Hotline 1547 works" in lviv  # readers in Lviv do not see it


def test_results_in_dnipro_and_near_me_there_show_the_alert(client, db: Session) -> None:
    s = _setup(db)
    r = client.get("/uk/search", params={"place": s["city"].code})
    assert "Повітряна тривога у Дніпрі" in _top(r.text)
    near = client.get("/en/search", params={"near": "48.46,35.04", "sort": "distance"})
    assert "Air-raid alert in Dnipro" in _top(near.text)
    lviv = client.get("/en/search", params={"place": s["lviv"].code})
    assert "Air-raid alert in Dnipro" not in _top(lviv.text)
    # htmx: changing the place updates the notices too (out of band), not only the results
    frag = client.get(
        "/en/search", params={"place": s["dnipro"].code}, headers={"HX-Request": "true"}
    )
    assert '<div id="notices" hx-swap-oob="true">' in frag.text
    assert "Air-raid alert in Dnipro" in frag.text


def test_service_page_in_dnipro_shows_the_alert_and_lviv_does_not(client, db: Session) -> None:
    s = _setup(db)
    top = _top(client.get(f"/ar/services/{s['basement'].id}").text)
    assert "Air-raid alert in Dnipro" in top and 'lang="en"' in top  # source language, marked
    lviv = _top(client.get(f"/en/services/{s['in_lviv'].id}").text)
    assert "Air-raid alert in Dnipro" not in lviv and "Hotline 1547 works" in lviv
    assert "notice-line" not in lviv  # a page about a place: no "choose your region" line


def test_find_a_shelter_lists_shelters_open_during_alerts_first(client, db: Session) -> None:
    s = _setup(db)
    top = _top(client.get("/en/", params={"place": s["dnipro"].code}).text)
    link = re.search(
        r'href="(/en/search\?[^"]*)"[^>]*>[^<]*<svg.*?</svg>\s*Nearest shelter open during alerts',
        top,
        re.S,
    )
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert f"place={s['dnipro'].code}" in url and "alert=1" in url
    results = client.get(url).text
    assert "Nearest shelter open during alerts" not in _top(results)  # not again on the list
    first, second = results.index("Metro station shelter"), results.index("Basement shelter")
    assert first < second and "Lviv shelter" not in results
    assert "Open during air-raid alerts" in results  # the card says why it is first
    # nearest first too (the reader shared a position next to the basement): still alerts first
    near = client.get(
        "/en/search",
        params={
            "category": "shelter.air-raid",
            "near": "48.46,35.04",
            "sort": "distance",
            "alert": "1",
        },
    ).text
    assert near.index("Metro station shelter") < near.index("Basement shelter")
    plain = client.get(
        "/en/search",
        params={"category": "shelter.air-raid", "near": "48.46,35.04", "sort": "distance"},
    ).text
    assert plain.index("Basement shelter") < plain.index("Metro station shelter")


def test_notice_times_are_the_regions_local_time(client, db: Session) -> None:
    """12:06 in Kyiv "until 14:06" reads 14:06 (not the UTC 10:06 / 11:06)."""
    from zoneinfo import ZoneInfo

    s = _setup(db)
    alert = s["alert"]
    until_local = alert.valid_until.astimezone(ZoneInfo("Europe/Kyiv"))
    utc_text = alert.valid_until.strftime("%H:%M")
    page = client.get("/uk/", params={"place": s["dnipro"].code}).text  # 24-hour clock
    uk = re.search(r'<article class="notice danger".*?</article>', page, re.S).group(0)  # type: ignore[union-attr]
    # "до 14:06", or "до пт 00:06" when the end falls on the next local day (late-evening runs)
    hhmm = until_local.strftime("%H:%M")
    assert re.search(rf"до (\w+\.? )?{hhmm} \(час: Київ\)", uk), uk
    assert utc_text not in uk
    en = _top(client.get("/en/", params={"place": s["dnipro"].code}).text)
    assert "(Kyiv time)" in en
    ar = _top(client.get("/ar/", params={"place": s["dnipro"].code}).text)
    assert "بتوقيت كييف" in ar


def test_print_stamp_is_in_the_directorys_zone(client, db: Session) -> None:
    r = client.get("/en/search")
    stamp = re.search(r'<p class="print-note">(.*?)</p>', r.text, re.S)
    assert stamp is not None and "(Kyiv time)" in stamp.group(1)


def test_status_times_of_another_zone_are_named(client, db: Session) -> None:
    """A list mixing zones: a Warsaw listing's "closed until" reads in Warsaw time, named; a
    Kyiv one (the directory's zone) needs no name."""
    from zoneinfo import ZoneInfo

    from directory.search.index import reindex_services

    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    closed = {"status": "temporarily closed", "status_until": until}
    warsaw = make_service(db, name="Warsaw reception", tz="Europe/Warsaw", service_fields=closed)
    kyiv = make_service(db, name="Kyiv reception", tz="Europe/Kyiv", service_fields=dict(closed))
    reindex_services(db, [warsaw.id, kyiv.id])
    db.flush()
    page = client.get("/uk/search", params={"q": "reception"}).text
    local_w = until.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%H:%M")
    local_k = until.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M")
    assert f"{local_w} (час: Варшава)" in page
    assert local_k in page and f"{local_k} (час:" not in page
    service = client.get(f"/en/services/{warsaw.id}").text
    assert "(Warsaw time)" in service


def test_home_of_a_chosen_region_keeps_it_for_the_next_step(client, db: Session) -> None:
    s = _setup(db)
    code = s["dnipro"].code
    page = client.get("/en/", params={"place": code}).text
    assert f'<input type="hidden" name="place" value="{code}">' in page  # the search box
    assert f"&amp;place={code}" in page.split('class="cats"', 1)[1]  # the categories
    assert re.search(rf'<option value="{code}"[^>]* selected', page)  # the picker
