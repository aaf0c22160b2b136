"""Byte budgets, measured (not timed): what a browser fetches on a first visit to a results page
(HTML + CSS + JS, gzip-compressed as served) and the size of one htmx result fragment."""

from __future__ import annotations

import gzip
import re

from sqlalchemy import select

from directory.demo.loader import load_demo
from directory.listings.models import Service

FIRST_VISIT_BUDGET = 40 * 1024
FRAGMENT_BUDGET = 8 * 1024
RESULTS = "/en/search?category=heat-power"


def _load(db) -> None:
    load_demo(db)
    if db.scalar(select(Service.id).limit(1)) is None:
        from tests.web.seed import seed

        seed(db)


def gz(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9))


def measure(client) -> dict[str, int]:
    """Compressed bytes of the results page and everything it loads (scripts, styles, icon)."""
    page = client.get(RESULTS)
    assert page.status_code == 200
    sizes = {"html": gz(page.content)}
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        asset = client.get(url)
        assert asset.status_code == 200, url
        sizes[url] = gz(asset.content)
    fragment = client.get(RESULTS, headers={"HX-Request": "true"})
    sizes["fragment"] = gz(fragment.content)
    return sizes


def test_first_visit_and_fragment_budgets(client, db):
    _load(db)
    sizes = measure(client)
    first_visit = sum(v for k, v in sizes.items() if k != "fragment")
    print(
        f"\nresults page first visit: {first_visit} bytes gzip; "
        f"fragment {sizes['fragment']}; {sizes}"
    )
    assert any(k.endswith(".css") for k in sizes) and any(k.endswith(".js") for k in sizes)
    assert first_visit <= FIRST_VISIT_BUDGET, sizes
    assert sizes["fragment"] <= FRAGMENT_BUDGET, sizes


def test_responses_are_compressed_and_use_no_web_fonts(client, db):
    _load(db)
    r = client.get(RESULTS, headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    css_url = re.search(r'href="(/static/css/[^"]+)"', r.text).group(1)
    css = client.get(css_url).text
    assert "@font-face" not in css and "url(" not in css
    assert "<img" not in r.text  # icons are inline SVG
