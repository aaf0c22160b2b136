"""Liveness and readiness."""

from __future__ import annotations

from directory.app import create_app
from directory.config import Settings


def test_healthz_and_readyz(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").text == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"database": "ok", "schema": "current"}


def test_readyz_reports_schema_behind_and_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    empty = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    with TestClient(empty) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["schema"] == "behind"
        assert c.get("/healthz").status_code == 200
    down = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with TestClient(down) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json() == {"database": "unreachable"}
        assert c.get("/healthz").status_code == 200
