"""`aid-directory alerts watch --once`, `alerts status`, `check` and /readyz, as an operator runs
them: a real database file, the feeds served locally, the exit codes documented in
docs/alerts.md."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from directory.app import create_app
from directory.config import Settings
from directory.listings import models as m
from directory.listings.places import ensure_places
from directory.migrate import upgrade
from tests.alerts.conftest import cap_time

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "directory", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        ensure_places(s)
    engine.dispose()
    return url


def test_watch_once_applies_and_exits_by_feed_health(
    database: str,
    httpserver: HTTPServer,
    fixture_text: Callable[..., str],
) -> None:
    httpserver.expect_request("/alert.xml").respond_with_data(
        fixture_text(
            "dnipro-alert.xml",
            SENT=cap_time(NOW - dt.timedelta(minutes=1)),
            EXPIRES=cap_time(NOW + dt.timedelta(hours=1)),
        )
    )
    env = {
        "DIRECTORY_DATABASE_URL": database,
        "DIRECTORY_ALERT_FEEDS": httpserver.url_for("/alert.xml"),
    }
    first = _cli(["alerts", "watch", "--once"], env)
    assert first.returncode == 0, first.stderr
    assert "1 applied; notices started 1" in first.stdout
    again = _cli(["alerts", "watch", "--once"], env)
    assert again.returncode == 0 and "1 duplicate; notices started 0" in again.stdout
    engine = create_engine(database)
    with Session(engine) as s:
        assert [n.region_id is not None for n in s.scalars(select(m.Notice))] == [True]
    engine.dispose()
    status = _cli(["alerts", "status"], env)
    assert status.returncode == 0 and status.stdout.startswith("ok")
    # A feed that does not answer: exit 1, a clear line, nothing changed.
    down = {
        **env,
        "DIRECTORY_ALERT_FEEDS": env["DIRECTORY_ALERT_FEEDS"]
        + "\n"
        + httpserver.url_for("/missing.xml"),
    }
    failed = _cli(["alerts", "watch", "--once"], down)
    assert failed.returncode == 1 and "FAILED" in failed.stdout and "HTTP 500" in failed.stdout
    assert "Traceback" not in failed.stderr
    stale = _cli(["alerts", "status"], down)
    assert stale.returncode == 1 and "STALE" in stale.stdout
    check = _cli(
        ["check"],
        {**down, "DIRECTORY_SECRET_KEY": "x" * 10 + "abcdefghijklmnopqrstuvwxyz0123456789"},
    )
    assert "directory.W020" in check.stdout + check.stderr


def test_bad_feed_setting_is_one_line_with_a_hint(database: str) -> None:
    result = _cli(
        ["alerts", "watch", "--once"],
        {
            "DIRECTORY_DATABASE_URL": database,
            "DIRECTORY_ALERT_FEEDS": "state https://x.example/a.json",
        },
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "needs mapping=" in result.stderr and "Hint:" in result.stderr
    none = _cli(["alerts", "watch", "--once"], {"DIRECTORY_DATABASE_URL": database})
    assert none.returncode == 2 and "no alert feeds configured" in none.stderr


def test_readyz_reports_feed_health(database: str) -> None:
    settings = Settings(
        database_url=database,
        secret_key="k" * 40,
        alert_feeds="https://warnings.example.org/cap/index.atom",
    )
    with TestClient(create_app(settings)) as client:
        body = client.get("/readyz").json()
    assert body["schema"] == "current"
    assert body["alert_feeds"] == [
        {
            "url": "https://warnings.example.org/cap/index.atom",
            "state": "stale",
            "failures": 0,
            "last_success_at": None,
        }
    ]
