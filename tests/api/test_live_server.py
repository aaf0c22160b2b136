"""Done when: over real HTTP against the running application (uvicorn on a free port, its own
SQLite database), a volunteer with a token proposes a capacity change, a moderator approves it,
the public page and the public API show it with the new verification time, and the audit log
shows both people with the old and new values."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from directory.app import create_app
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker
from directory.migrate import upgrade
from tests.factories import make_account, make_listing, make_place, make_token


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        region = make_place(db, name="Lviv oblast")
        svc, loc = make_listing(db, region=region, name="Collective centre", capacity_available=0)
        maria = make_account(db, "volunteer", [region])
        taras = make_account(db, "moderator", [region])
        maria.display_name, taras.display_name = "Maria", "Taras"
        seed = {
            "service": str(svc.id),
            "location": str(loc.id),
            "maria": make_token(db, maria),
            "taras": make_token(db, taras),
        }
        db.commit()
    app = create_app(Settings(database_url=url, secret_key="s" * 40), engine=engine)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", seed
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_volunteer_to_moderator_to_public_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, seed = server
    loc, svc = seed["location"], seed["service"]
    maria = {"Authorization": f"Bearer {seed['maria']}"}
    taras = {"Authorization": f"Bearer {seed['taras']}"}
    with httpx.Client(base_url=base, timeout=10) as http:
        page = http.get(f"/en/services/{svc}")
        assert page.status_code == 200 and "Not checked by a volunteer yet" in page.text
        etag = http.get(f"/api/v1/locations/{loc}").headers["ETag"]

        r = http.patch(
            f"/api/v1/locations/{loc}/capacity",
            json={"available": 12},
            headers={**maria, "If-Match": etag},
        )
        assert r.status_code == 202 and r.json()["state"] == "pending"
        change_id = r.json()["id"]
        assert http.get(f"/api/v1/locations/{loc}").json()["capacity_available"] == 0

        queue = http.get("/api/v1/moderation/queue", headers=taras).json()
        assert [i["id"] for i in queue["items"]] == [change_id]
        r = http.post(f"/api/v1/moderation/change-requests/{change_id}/approve", headers=taras)
        assert r.status_code == 200 and r.json()["state"] == "approved"

        api_loc = http.get(f"/api/v1/locations/{loc}").json()
        api_svc = http.get(f"/api/v1/services/{svc}").json()
        assert api_loc["capacity_available"] == 12 and api_loc["capacity_updated"]
        assert api_svc["assured_date"] is not None
        page = http.get(f"/en/services/{svc}")
        assert "12 free places" in page.text
        assert "Not checked by a volunteer yet" not in page.text

        [entry] = http.get(
            "/api/v1/moderation/audit", params={"entity_id": loc}, headers=taras
        ).json()
        assert (entry["author"], entry["approver"]) == ("Maria", "Taras")
        assert entry["changes"]["capacity_available"] == [0, 12]
        mine = http.get("/api/v1/me/change-requests", headers=maria).json()
        assert mine[0]["state"] == "approved" and mine[0]["reviewer"] == "Taras"
