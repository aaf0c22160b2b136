"""Host header attacks: a request naming another host is refused, so no absolute URL (sitemap,
robots.txt, canonical and hreflang links) is ever built from a host the client chose."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from directory.app import create_app
from directory.config import Settings
from directory.deps import get_session

EVIL = "evil.example"
REFLECTING = ("/sitemap.xml", "/robots.txt", "/en/", "/uk/about", "/en/manage/login")


@contextmanager
def _client(
    engine: Engine, db: Session, origin: str = "http://testserver", **settings: object
) -> Iterator[TestClient]:
    app = create_app(
        Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key="s" * 40,
            **settings,
        ),
        engine=engine,
    )  # type: ignore[arg-type]

    def _session() -> Iterator[Session]:
        yield db

    app.dependency_overrides[get_session] = _session
    with TestClient(app, base_url=origin) as c:
        yield c


@pytest.mark.parametrize("path", REFLECTING)
def test_foreign_host_header_is_refused_not_reflected(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"Host": EVIL})
    assert r.status_code == 400
    assert EVIL not in r.text
    assert "evil" not in r.headers.get("location", "")
    # the same page for the test client's own (default, local) host still answers
    ok = client.get(path)
    assert ok.status_code == 200
    assert EVIL not in ok.text


def test_sitemap_and_robots_use_the_request_host_only_when_allowed(client: TestClient) -> None:
    assert "<loc>http://testserver/en/</loc>" in client.get("/sitemap.xml").text
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").text
    # X-Forwarded-Host is never believed either
    r = client.get("/sitemap.xml", headers={"X-Forwarded-Host": EVIL})
    assert r.status_code == 200 and EVIL not in r.text


def test_configured_hosts_only(engine: Engine, db: Session) -> None:
    with _client(
        engine,
        db,
        origin="http://help.example.org",
        allowed_hosts="help.example.org, *.help.example.org",
    ) as c:
        assert "<loc>http://help.example.org/en/</loc>" in c.get("/sitemap.xml").text
        r = c.get("/sitemap.xml", headers={"Host": "uk.help.example.org"})
        assert r.status_code == 200 and "<loc>http://uk.help.example.org/en/</loc>" in r.text
        for host in (
            EVIL,
            "testserver",
            "localhost",
            "help.example.org.evil.example",
            "evilhelp.example.org",
        ):
            r = c.get("/robots.txt", headers={"Host": host})
            assert r.status_code == 400, host
            assert host not in r.text
        # load balancers probe by address: the health checks answer for any host
        assert c.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200
        assert c.get("/readyz", headers={"Host": "10.0.0.5:8000"}).status_code == 200


def test_base_url_wins_and_its_host_is_allowed(engine: Engine, db: Session) -> None:
    with _client(
        engine, db, origin="http://127.0.0.1:8000", base_url="https://help.example.org"
    ) as c:
        text = c.get("/sitemap.xml").text
        assert "<loc>https://help.example.org/en/</loc>" in text and "127.0.0.1" not in text
        assert c.get("/robots.txt", headers={"Host": "help.example.org"}).status_code == 200
        assert c.get("/robots.txt", headers={"Host": EVIL}).status_code == 400


def test_host_setting_is_validated() -> None:
    assert Settings(allowed_hosts="").trusted_hosts == [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "testserver",
    ]
    assert Settings(
        allowed_hosts="A.example.org,*.b.example.org", base_url="https://c.example.org"
    ).trusted_hosts == ["a.example.org", "*.b.example.org", "c.example.org"]
    for bad in ("https://a.example.org", "a.example.org:443", "a.*.org", "a.example.org/x", "a b"):
        with pytest.raises(ValueError, match="not a host name"):
            Settings(allowed_hosts=bad)
