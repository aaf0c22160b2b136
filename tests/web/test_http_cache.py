"""Conditional GET for anonymous readers (`directory.httpcache`): the ETag is known before the page
is built, a matching If-None-Match is answered 304 without building it, and a write, another
minute, another URL or a signed-in reader never get a stale or shared answer."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory import httpcache
from directory.listings import queries
from directory.listings.generation import data_version
from directory.moderation import service as moderation
from directory.web import pages, routes
from tests.factories import make_account
from tests.web.seed import Seed

WEAK_TAG = re.compile(r'^W/"[0-9a-f]{32}"$')


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("the page was built although the reader holds the current one")


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[dt.datetime]:
    """The routes' clock, settable by the test (12:00:05 UTC on a Monday)."""
    clock = [dt.datetime(2026, 11, 23, 12, 0, 5, tzinfo=dt.UTC)]
    monkeypatch.setattr(routes, "now", lambda: clock[0])
    monkeypatch.setattr(
        httpcache,
        "seconds_left",
        lambda minute, now=None: max(
            1, int((minute + dt.timedelta(minutes=1) - clock[0]).total_seconds())
        ),
    )
    return clock


@pytest.mark.parametrize("path", ["/en/", "/uk/search?q=Kharkiv", "/en/services/{warming}"])
def test_anonymous_page_304_without_building_it(
    client: TestClient,
    data: Seed,
    frozen: list[dt.datetime],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    url = path.format(warming=data.warming.id)
    first = client.get(url)
    assert first.status_code == 200 and "set-cookie" not in first.headers
    etag = first.headers["etag"]
    assert WEAK_TAG.match(etag)
    assert first.headers["cache-control"] == "public, max-age=55"  # until 12:01:00
    # Nothing below may run for a reader who holds the current page.
    for name in ("home_context", "search_context", "service_context"):
        monkeypatch.setattr(pages, name, _fail)
    monkeypatch.setattr(queries, "search_services", _fail)
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=55"
    assert "Accept-Encoding" in again.headers["vary"]
    assert "set-cookie" not in again.headers and "content-encoding" not in again.headers
    # Weak comparison; a list of tags; `*`.
    assert client.get(url, headers={"If-None-Match": etag.removeprefix("W/")}).status_code == 304
    assert client.get(url, headers={"If-None-Match": f'"x", {etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304


def test_the_tag_is_the_same_body_all_minute_and_changes_with_the_minute(
    client: TestClient,
    data: Seed,
    frozen: list[dt.datetime],
) -> None:
    first = client.get("/en/")
    frozen[0] = frozen[0].replace(second=50)
    same = client.get("/en/", headers={"If-None-Match": first.headers["etag"]})
    assert same.status_code == 304 and same.headers["cache-control"] == "public, max-age=10"
    frozen[0] = frozen[0] + dt.timedelta(seconds=15)  # 12:01:05: "open now" may have changed
    later = client.get("/en/", headers={"If-None-Match": first.headers["etag"]})
    assert later.status_code == 200 and later.headers["etag"] != first.headers["etag"]
    assert later.text  # a full page


def test_a_write_changes_the_tag(
    client: TestClient, db: Session, data: Seed, frozen: list[dt.datetime]
) -> None:
    url = f"/en/services/{data.warming.id}"
    before = client.get(url)
    version = data_version(db)
    moderator = make_account(db, "moderator")
    change = moderation.propose(
        db,
        actor=moderator,
        entity_type="service",
        kind="update",
        entity_id=data.warming.id,
        changes={"description": "Warm rooms, tea and phone charging; open through the night."},
        base_version=data.warming.version,
    )
    assert change.state == "approved"
    db.commit()
    assert data_version(db) != version
    after = client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and "open through the night" in after.text
    assert after.headers["etag"] != before.headers["etag"]


def test_tags_differ_by_url_locale_and_fragment(
    client: TestClient, data: Seed, frozen: list[dt.datetime]
) -> None:
    tags = {
        client.get("/en/search?q=Kharkiv").headers["etag"],
        client.get("/uk/search?q=Kharkiv").headers["etag"],
        client.get("/en/search?q=Kharkov").headers["etag"],
        client.get("/en/search?q=Kharkiv", headers={"HX-Request": "true"}).headers["etag"],
    }
    assert len(tags) == 4
    fragment = client.get("/en/search?q=Kharkiv", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["vary"]
    page_tag = client.get("/en/search?q=Kharkiv").headers["etag"]
    # A fragment request must never be answered "not modified" with the full page's tag.
    assert (
        client.get(
            "/en/search?q=Kharkiv", headers={"HX-Request": "true", "If-None-Match": page_tag}
        ).status_code
        == 200
    )


@pytest.mark.parametrize("credentials", [{"Cookie": "session=abc"}, {"Authorization": "Bearer x"}])
def test_signed_in_readers_get_no_tag_and_no_store(
    client: TestClient,
    data: Seed,
    frozen: list[dt.datetime],
    credentials: dict[str, str],
) -> None:
    etag = client.get("/en/").headers["etag"]
    for url in ("/en/", "/en/search?q=Kharkiv", "/en/about"):
        r = client.get(url, headers={**credentials, "If-None-Match": etag})
        assert r.status_code == 200, url
        assert "etag" not in r.headers and r.headers["cache-control"] == "no-store", url
        assert "set-cookie" not in r.headers


def test_static_files_are_sent_gzip_compressed_once_at_startup(client: TestClient) -> None:
    import gzip

    from directory.web.templating import manifest

    page = client.get("/en/about").text
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)  # type: ignore[union-attr]
    asset = manifest().assets[css.removeprefix("/static/")]
    packed = client.get(css, headers={"Accept-Encoding": "gzip, br"})
    assert (
        packed.headers["content-encoding"] == "gzip"
        and "immutable" in packed.headers["cache-control"]
    )
    assert packed.headers["vary"] == "Accept-Encoding"
    # httpx decodes the body: the bytes on the wire are the stored compressed copy.
    assert packed.content == asset.body and gzip.decompress(asset.gzipped or b"") == asset.body
    assert packed.headers["content-length"] == str(len(asset.gzipped or b""))
    plain = client.get(css, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == asset.body
    assert plain.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    "path",
    [
        "/en/?near=50.45,30.52",
        "/uk/search?q=Kharkiv&near=50.45,30.52",
        "/en/search?near=50.45,30.52&sort=distance",
        "/en/services/{warming}?near=50.45,30.52",
    ],
)
def test_a_page_with_the_readers_position_is_never_stored_by_a_shared_cache(
    client: TestClient, data: Seed, frozen: list[dt.datetime], path: str
) -> None:
    """The nginx microcache keeps the URL of what it stores in its files: a URL with where a
    reader is must be `private` (their own browser may keep it, no shared cache), also on a 304."""
    url = path.format(warming=data.warming.id)
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, max-age=55"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, max-age=55"
    # the same page without the position is still shared
    plain = client.get(url.split("?near=")[0].replace("&near=50.45,30.52", ""))
    assert plain.headers["cache-control"] == "public, max-age=55"
