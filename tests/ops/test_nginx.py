"""The production shape in CI (issue 16): Debian's nginx runs the SHIPPED deploy/nginx config (TLS
with a throwaway certificate) in front of two app processes on PostgreSQL (bench/shape.py).
What the cache does is read off the responses, not the config."""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from bench import shape
from directory.migrate import upgrade
from tests.conftest import PG_URL, REQUIRE_PG, ROOT

pytestmark = pytest.mark.postgres

HOT = ["/en/", "/uk/", "/ar/", "/en/search?q=shelter", "/api/v1/services?limit=5"]


@pytest.fixture(scope="module")
def running() -> Iterator[shape.Shape]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    if shape.NGINX is None:
        if REQUIRE_PG:
            pytest.fail("nginx is not installed (apt-get install nginx; .ci/run does)")
        pytest.skip("nginx not installed")
    base = make_url(PG_URL)
    name = f"{base.database}_shape"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    subprocess.run(
        [sys.executable, "-m", "directory", "generate", "--services", "40", "--seed", "5"],
        cwd=ROOT,
        env={**os.environ, "DIRECTORY_DATABASE_URL": url},
        check=True,
        capture_output=True,
        timeout=300,
    )
    running = shape.Shape(url, apps=2).start()
    try:
        yield running
    finally:
        running.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_anonymous_hot_pages_come_from_the_cache(running: shape.Shape) -> None:
    with running.client() as client:
        for path in HOT:
            first = client.get(path)
            assert first.status_code == 200, (path, first.status_code)
            second = client.get(path)
            assert second.status_code == 200
            assert second.headers.get("x-cache") == "HIT", (path, second.headers.get("x-cache"))
            # the very same stored answer: the app's request id of the first one
            assert second.headers.get("x-request-id") == first.headers.get("x-request-id")
            cache_control = first.headers.get("cache-control", "")
            assert "public" in cache_control and "max-age=" in cache_control
            max_age = int(cache_control.split("max-age=")[1].split(",")[0])
            assert 0 <= max_age <= 60, "no copy may be promised fresh beyond the minute"


def test_signed_in_and_manage_requests_never_come_from_the_cache(running: shape.Shape) -> None:
    with running.client() as client:
        client.get("/en/")  # stored for anonymous readers
        for headers in ({"Cookie": "aid_manage=someone"}, {"Authorization": "Bearer t0ken"}):
            ids = set()
            for _ in range(3):
                answer = client.get("/en/", headers=headers)
                assert answer.headers.get("x-cache") in ("BYPASS", None), answer.headers
                ids.add(answer.headers.get("x-request-id"))
            assert len(ids) == 3, "each request with credentials was answered by the app"
        ids = set()
        for _ in range(3):
            page = client.get("/en/manage/login")
            assert page.status_code == 200
            assert page.headers.get("x-cache") in ("BYPASS", None)
            assert "no-store" in page.headers.get("cache-control", "")
            ids.add(page.headers.get("x-request-id"))
        assert len(ids) == 3, "/manage/ pages were served from a cache"


def _max_age(answer: httpx.Response) -> int:
    return int(answer.headers["cache-control"].split("max-age=")[1].split(",")[0])


def test_pages_with_the_readers_position_are_never_stored(running: shape.Shape) -> None:
    """`near=` / `lat`+`lon` URLs are `private`: the microcache (whose files keep the URL) never
    stores where a reader is."""
    with running.client() as client:
        for path in ("/en/search?q=shelter&near=52.52,13.40", "/api/v1/services?lat=52.5&lon=13.4"):
            ids = set()
            for _ in range(3):
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code)
                assert answer.headers.get("cache-control", "").startswith("private"), path
                assert answer.headers.get("x-cache") != "HIT", path
                assert "set-cookie" not in answer.headers
                ids.add(answer.headers.get("x-request-id"))
            assert len(ids) == 3, f"{path} was answered from the cache"


def test_a_copy_is_replaced_when_its_minute_is_over(running: shape.Shape) -> None:
    """The cache keeps its files open between hits (open_file_cache): when a copy's minute is
    over and the refresh writes a new file, every later reader gets the new copy at once — no
    descriptor of the old file keeps serving it. Waits for the end of the current minute."""
    path = "/pl/"  # no other test asks for it: the first answer starts a fresh copy
    with running.client() as client:
        first = client.get(path)
        assert first.status_code == 200
        old = first.headers["x-request-id"]
        assert client.get(path).headers.get("x-request-id") == old, "not stored"
        time.sleep(_max_age(first) + 1)
        deadline = time.monotonic() + 20
        # the first reader after the minute gets the old copy (STALE) while nginx refreshes it
        while client.get(path).headers.get("x-request-id") == old:
            assert time.monotonic() < deadline, "the expired copy was never refreshed"
            time.sleep(0.05)
        later = []
        for _ in range(40):  # over two seconds: longer than any open-file revalidation step
            answer = client.get(path)
            assert answer.status_code == 200
            later.append((answer.headers.get("x-request-id"), answer.headers.get("x-cache")))
            time.sleep(0.05)
        assert all(rid != old for rid, _ in later), later
        assert len({rid for rid, _ in later}) == 1, "one new copy, served from the cache"
        assert later[-1][1] == "HIT"


def test_access_log_keeps_no_address_or_query(running: shape.Shape) -> None:
    """The access log is buffered (written at most a second late) and holds paths only: no
    client address, no query string (searches, positions)."""
    log = running.folder / "access.log"
    with running.client() as client:
        client.get("/en/search?q=Lindenstrasse+12&near=52.52,13.40")
        client.get("/en/search?q=Lindenstrasse+12")
    deadline = time.monotonic() + 10
    while "/en/search" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "nothing logged"
        time.sleep(0.2)
    text = log.read_text()
    for secret in ("Lindenstrasse", "q=", "near", "52.52", "127.0.0.1"):
        assert secret not in text, secret


def test_a_stored_answer_keeps_the_date_it_was_made(running: shape.Shape) -> None:
    """Browsers count a copy's age from its Date (RFC 9111 4.2.3; nginx adds no Age): a cached
    answer carries the app's Date, so Date + max-age ends with the minute the page was made
    for. With nginx's own Date a copy made at :01 and served at :59 would stay fresh in the
    browser until :58 of the next minute."""
    path = "/de/"  # no other test asks for it
    while dt.datetime.now(dt.UTC).second >= 56:  # both requests within one minute
        time.sleep(0.5)
    with running.client() as client:
        first = client.get(path)
        time.sleep(1.5)
        again = client.get(path)
    assert again.headers.get("x-cache") == "HIT"
    assert again.headers["x-request-id"] == first.headers["x-request-id"]
    assert again.headers["date"] == first.headers["date"], "the cache re-dated its copy"
    made = email.utils.parsedate_to_datetime(first.headers["date"])
    end_of_minute = made.replace(second=0) + dt.timedelta(minutes=1)
    assert made + dt.timedelta(seconds=_max_age(first)) <= end_of_minute + dt.timedelta(seconds=1)


# Last: it stops the app processes of the module's shape.
def test_readers_keep_getting_pages_when_every_app_process_is_down(running: shape.Shape) -> None:
    with running.client() as client:
        for path in HOT:
            assert client.get(path).status_code == 200
        running.stop_apps()
        errors = []
        for _ in range(10):
            for path in HOT:
                answer = client.get(path)
                if answer.status_code != 200 or answer.headers.get("x-cache") not in (
                    "HIT",
                    "STALE",
                    "UPDATING",
                ):
                    errors.append((path, answer.status_code, answer.headers.get("x-cache")))
        assert errors == []
