"""Public pages: locale routing, full page vs htmx fragment, filters, service page privacy,
the report form, caching headers, no cookies, static files, robots and sitemap."""

from __future__ import annotations

import re

from sqlalchemy import select

from directory.moderation.models import Report
from directory.web import forms
from tests.web.seed import Seed


def test_root_redirects_by_accept_language(client):
    r = client.get(
        "/", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}, follow_redirects=False
    )
    assert r.status_code == 302 and r.headers["location"] == "/de/"
    assert "Accept-Language" in r.headers["vary"]
    r = client.get("/", headers={"Accept-Language": "fr, ar;q=0.8"}, follow_redirects=False)
    assert r.headers["location"] == "/ar/"
    r = client.get("/", headers={"Accept-Language": "fr"}, follow_redirects=False)
    assert r.headers["location"] == "/en/"


def test_unknown_locale_is_a_localised_404_page(client):
    r = client.get("/xx/", headers={"Accept-Language": "uk"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="uk"' in r.text and "Сторінку не знайдено" in r.text
    r = client.get("/ar/services/not-a-uuid")
    assert r.status_code == 404 and 'dir="rtl"' in r.text


def test_home_in_arabic_is_rtl_with_categories_and_notices(client, data: Seed):
    r = client.get("/ar/", params={"place": data.region.code})  # a reader who chose the region
    assert r.status_code == 200
    assert '<html lang="ar" dir="rtl">' in r.text
    assert r.headers["content-language"] == "ar"
    assert "التدفئة والكهرباء" in r.text  # category label in Arabic
    assert "Air-raid alert" in r.text  # the notice, in its source language ...
    assert re.search(
        r'<span lang="en" dir="ltr">Air-raid alert</span>', r.text
    )  # ... marked as such
    uk = client.get("/uk/", params={"place": data.region.code})
    assert "Повітряна тривога" in uk.text
    uk = client.get("/uk/")
    assert 'hreflang="ar" href="http://testserver/ar/"' in uk.text
    assert '<link rel="canonical" href="http://testserver/uk/">' in uk.text
    assert 'property="og:title"' in uk.text


def test_search_page_and_fragment_come_from_one_route(client, data: Seed):
    page = client.get("/en/search", params={"category": "heat-power"})
    assert page.status_code == 200 and "<html" in page.text
    assert "HX-Request" in page.headers["vary"]
    assert "Warming point School 12" in page.text
    assert "Day shelter Metro" not in page.text
    frag = client.get(
        "/en/search", params={"category": "heat-power"}, headers={"HX-Request": "true"}
    )
    assert frag.status_code == 200
    assert "<html" not in frag.text
    # the only heading is the page's own, swapped out of band so it follows the new search
    assert frag.text.count("<h1") == 1 and '<h1 id="page-h" hx-swap-oob="true">' in frag.text
    assert "Warming point School 12" in frag.text
    assert 'hx-swap-oob="true"' in frag.text  # the language links follow the new query
    assert "/uk/search?category=heat-power" in frag.text
    restore = client.get(
        "/en/search",
        params={"category": "heat-power"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


def test_search_filters_and_cross_script_text(client, data: Seed):
    r = client.get("/uk/search", params={"q": "Харків", "open_now": "1"})
    assert "Пункт обігріву, школа 12" in r.text  # translated name
    assert "Day shelter Metro" not in r.text  # temporarily closed: not open now
    r = client.get("/en/search", params={"women_children": "1"})
    assert "Safe house for women" in r.text and "Warming point School 12" not in r.text
    r = client.get("/en/search", params={"q": "zzzzqqq"})
    assert "No services match" in r.text


def test_near_me_sorts_by_distance_and_rounds(client, data: Seed):
    r = client.get("/en/search", params={"near": "49.98765,36.23456", "sort": "distance"})
    assert r.status_code == 200
    assert 'name="near" value="49.99,36.23"' in r.text  # never more precise than ~1 km
    assert re.search(r"\d+(\.\d)? (km|m)\b", r.text)  # distances shown


def test_service_page_shows_status_hours_phones_and_map_links(client, data: Seed):
    r = client.get(f"/en/services/{data.warming.id}")
    assert r.status_code == 200
    assert 'href="tel:+380570000012"' in r.text
    assert "geo:49.99,36.23" in r.text and "openstreetmap.org" in r.text
    # directions on foot, with no start: the reader's position stays on their device
    assert "openstreetmap.org/directions?engine=fossgis_osrm_foot&amp;route=%3B49.99" in r.text
    assert "Directions on foot (OpenStreetMap)" in r.text
    assert "12 free places" in r.text and "Open 24 hours" in r.text
    assert "Checked by a volunteer 2 hours ago" in r.text
    closed = client.get(f"/ar/services/{data.consulate.id}")
    assert 'role="alert"' in closed.text
    assert f"/ar/services/{data.warming.id}" in closed.text  # the alternative


def test_confidential_location_shows_region_and_hotline_only(client, data: Seed):
    r = client.get(f"/en/services/{data.confidential.id}")
    assert r.status_code == 200
    assert "Secret street" not in r.text
    assert "tel:+380800000777" in r.text and "tel:+380579999999" not in r.text
    assert "999 9999" not in r.text
    assert "geo:" not in r.text and "openstreetmap" not in r.text
    assert "Kharkiv" in r.text
    listing = client.get("/en/search", params={"women_children": "1"})
    assert "Secret street" not in listing.text and "geo:" not in listing.text


def test_report_form_without_account_or_cookie(client, db, data: Seed, settings):
    page = client.get(f"/uk/services/{data.warming.id}")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/uk/services/{data.warming.id}/report",
        data={"token": token, "kind": "locked", "message": "Двері зачинені"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "set-cookie" not in r.headers
    done = client.get(r.headers["location"])
    assert done.status_code == 200 and "Дякуємо" in done.text
    reports = db.scalars(select(Report).where(Report.service_id == data.warming.id)).all()
    assert [str(x.kind) for x in reports] == ["locked"]


def test_report_form_refuses_bad_token_and_hides_honeypot_drops(client, db, data: Seed, settings):
    url = f"/en/services/{data.warming.id}/report"
    r = client.post(url, data={"token": "forged", "kind": "closed"})
    assert r.status_code == 422 and "This form has expired" in r.text
    r = client.post(
        url,
        data={"token": forms.make_token(settings.secret_key, data.warming.id), "kind": "nonsense"},
    )
    assert r.status_code == 422 and "Choose what is wrong" in r.text
    other = forms.make_token(settings.secret_key, data.closed.id)  # token of another service
    assert client.post(url, data={"token": other, "kind": "closed"}).status_code == 422
    token = forms.make_token(settings.secret_key, data.warming.id)
    r = client.post(
        url,
        data={"token": token, "kind": "closed", "website": "http://spam"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert db.scalars(select(Report).where(Report.service_id == data.warming.id)).all() == []


def test_no_cookies_and_conditional_get(client, data: Seed):
    for path in [
        "/en/",
        "/ar/search?category=shelter",
        f"/uk/services/{data.warming.id}",
        "/de/about",
        "/robots.txt",
        "/sitemap.xml",
        "/xx/nothing",
    ]:
        r = client.get(path)
        assert "set-cookie" not in r.headers, path
    r = client.get("/en/about")
    etag = r.headers["etag"]
    assert r.headers["cache-control"].startswith("public")
    again = client.get("/en/about", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_static_files_are_hashed_and_immutable(client):
    page = client.get("/en/about").text
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)
    r = client.get(css)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("text/css")
    assert client.get("/static/css/site.css").status_code == 404
    htmx = re.search(r'src="(/static/vendor/htmx\.min\.[0-9a-f]{12}\.js)"', page).group(1)
    assert client.get(htmx).status_code == 200
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/"
    assert "no-cache" in sw.headers["cache-control"]


def test_pages_have_no_inline_scripts_or_handlers(client, data: Seed):
    for path in ["/en/", "/en/search?q=kharkiv", f"/ar/services/{data.warming.id}"]:
        html = client.get(path).text
        # executable inline scripts; a JSON-LD data block is never run (and CSP leaves it be)
        inline = r'<script(?![^>]*\bsrc=)(?![^>]*type="application/ld\+json")[^>]*>'
        assert not re.search(inline, html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert ' style="' not in html, path


def test_robots_and_sitemap(client, data: Seed):
    robots = client.get("/robots.txt").text
    assert "Sitemap: http://testserver/sitemap.xml" in robots and "/en/manage/" in robots
    sitemap = client.get("/sitemap.xml")
    assert sitemap.headers["content-type"].startswith("application/xml")
    assert f"http://testserver/ar/services/{data.warming.id}" in sitemap.text
    assert 'hreflang="uk"' in sitemap.text


def test_language_switcher_keeps_page_and_query(client, data: Seed):
    r = client.get("/en/search", params={"q": "kharkiv", "open_now": "1"})
    assert 'href="/ar/search?q=kharkiv&amp;open_now=1"' in r.text


def test_server_error_is_a_localised_page_without_traceback(app, client, monkeypatch):
    from fastapi.testclient import TestClient

    from directory.web import pages

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(pages, "home_context", broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/pl/")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "Coś poszło nie tak" in r.text
    assert "secret internals" not in r.text and "Traceback" not in r.text
