"""The production shape in CI (issue 16): Debian's nginx runs the SHIPPED deploy/nginx config (TLS
with a throwaway certificate) in front of two app processes on PostgreSQL (bench/shape.py).
What the cache does is read off the responses, not the config."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

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
