"""Incremental sync: `modified_after` returns every record changed since a time — itself or in
what it nests — and tombstones for archived ones; two installations (two app instances over
real HTTP, each with its own database) sync from each other with `aid-directory import URL`."""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.app import create_app
from directory.cli import main
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker, session_scope, utcnow
from directory.listings import models as m
from directory.migrate import upgrade
from tests.factories import first_location, make_account
from tests.hsds_api.data import age, seed
from tests.hsds_api.test_api import check


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_modified_after_returns_changes_and_tombstones(client: TestClient, db: Session) -> None:
    data = seed(db)
    age(db, utcnow() - dt.timedelta(days=2))
    db.commit()
    since = _iso(utcnow() - dt.timedelta(hours=1))

    def changed(path: str = "/hsds/services", **query: str) -> list[dict[str, Any]]:
        r = client.get(path, params={"modified_after": since, **query})
        assert r.status_code == 200, r.text
        return r.json()["contents"]

    assert changed() == [] and changed("/hsds/service_at_locations") == []
    data.exact.name = "Night shelter, new entrance"  # the service itself
    first_location(db, data.approx).capacity_available = 0  # a place it is at
    data.confidential.archived_at = utcnow()  # gone: a tombstone
    db.commit()

    got = {s["id"]: s for s in changed()}
    assert set(got) == {str(data.exact.id), str(data.approx.id), str(data.confidential.id)}
    assert got[str(data.exact.id)]["name"] == "Night shelter, new entrance"
    stone = got[str(data.confidential.id)]
    assert stone["status"] == "defunct" and stone["metadata"][0]["last_action_type"] == "delete"
    assert set(stone) == {"id", "name", "status", "last_modified", "metadata"}
    for record in got.values():
        check(record, "service.json")
    full = {s["id"]: s for s in changed(full="true")}
    loc = full[str(data.approx.id)]["service_at_locations"][0]["location"]
    [places] = full[str(data.approx.id)]["capacities"]  # HSDS 3.1 service_capacity
    assert places["available"] == 0 and places["x_location_id"] == loc["id"]
    sals = changed("/hsds/service_at_locations")
    assert {s["service_id"] for s in sals} == {str(data.exact.id), str(data.approx.id)}
    # A date alone is midnight UTC; the whole collection without the parameter has no tombstone.
    assert len(changed(modified_after=since[:10])) >= 3
    listed = client.get("/hsds/services").json()["contents"]
    assert str(data.confidential.id) not in {s["id"] for s in listed}
    assert client.get("/hsds/organizations", params={"modified_after": since}).json()["empty"]


# --- two installations ------------------------------------------------------------------------


class Instance:
    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        upgrade(self.url)
        self.engine = make_engine(self.url)
        self.sessions = make_sessionmaker(self.engine)
        app = create_app(Settings(database_url=self.url, secret_key="s" * 40), engine=self.engine)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start"

    def services(self) -> dict[str, dict[str, Any]]:
        r = httpx.get(self.base + "/hsds/services", params={"full": "true"}, timeout=30)
        assert r.status_code == 200
        return {s["id"]: s for s in r.json()["contents"]}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.engine.dispose()


@pytest.fixture()
def two(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    a, b = Instance(tmp_path / "a.db"), Instance(tmp_path / "b.db")
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def _comparable(service: dict[str, Any]) -> dict[str, Any]:
    """What a partner's copy must show the same (times of writing differ by installation).
    Of a redacted place (approximate, confidential) the importer keeps no whereabouts (it was
    given none it could trust: rounded or absent), so only an exact place is compared whole."""
    places = []
    capacities = service.get("capacities", [])  # HSDS 3.1 service_capacity, one per place
    for sal in service["service_at_locations"]:
        loc = sal["location"]
        free = [c.get("available") for c in capacities if c.get("x_location_id") == loc["id"]]
        place = {"id": loc["id"], "free": free}
        if not loc.get("x_redacted"):
            place["latitude"] = loc.get("latitude")
            place["addresses"] = [a.get("address_1") for a in loc["addresses"]]
            place["phones"] = sorted(p["number"] for p in loc["phones"])
        places.append(place)
    return {
        "id": service["id"],
        "name": service["name"],
        "status": service["status"],
        "organization": service["organization"]["name"],
        "phones": sorted(p["number"] for p in service["phones"]),
        "places": places,
    }


def test_two_installations_sync_incrementally(
    two: tuple[Instance, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two
    with session_scope(a.sessions) as db:
        data = seed(db)
        exact_id, approx_id = data.exact.id, data.approx.id
        age(db, utcnow() - dt.timedelta(days=2))  # written long before the syncs
    with session_scope(b.sessions) as db:
        make_account(db, "admin", email="admin@b.example")
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", b.url)
    runner = CliRunner()
    sync = ["import", a.base + "/hsds/", "--apply", "--publish", "--as", "admin@b.example"]

    first = runner.invoke(main, sync)
    assert first.exit_code == 0, first.output
    assert "Read 3 service(s) and 0 archived" in first.output
    theirs, ours = a.services(), b.services()
    assert set(ours) == set(theirs)
    assert [_comparable(ours[k]) for k in sorted(ours)] == [
        _comparable(theirs[k]) for k in sorted(theirs)
    ]
    assert _comparable(ours[str(exact_id)])["places"][0]["free"] == [7]
    since = re.search(r"--modified-after (\S+)", first.output)
    assert since is not None

    with session_scope(a.sessions) as db:
        db.get(m.Service, exact_id).name = "Night shelter, new entrance"  # type: ignore[union-attr]
        db.get(m.Service, approx_id).archived_at = utcnow()  # type: ignore[union-attr]
    second = runner.invoke(main, [*sync, "--modified-after", since.group(1)])
    assert second.exit_code == 0, second.output
    assert "Read 1 service(s) and 1 archived" in second.output, second.output
    read = int(re.search(r"\((\d+) page\(s\), (\d+) bytes\)", second.output).group(2))  # type: ignore[union-attr]
    assert read < 20_000  # a few kilobytes: only what changed
    assert "1 service(s) archived at the source archived here" in second.output
    ours = b.services()
    assert ours[str(exact_id)]["name"] == "Night shelter, new entrance"
    assert str(approx_id) not in ours
    with session_scope(b.sessions) as db:
        gone = db.scalar(select(m.Service.archived_at).where(m.Service.id == approx_id))
        assert gone is not None
    theirs = a.services()
    assert [_comparable(ours[k]) for k in sorted(ours)] == [
        _comparable(theirs[k]) for k in sorted(theirs)
    ]
    # Nothing changed since: nothing is read but the empty page.
    third = runner.invoke(main, [*sync, "--modified-after", _iso(utcnow())])
    assert third.exit_code == 0 and "Read 0 service(s) and 0 archived" in third.output


def test_atom_feed_of_changes_per_region(client: TestClient, db: Session) -> None:
    import feedparser

    from tests.factories import make_listing, make_place

    data = seed(db)
    other = make_place(db, name="Kharkiv oblast", code="UA-63-TEST")
    elsewhere, _ = make_listing(db, region=other, name="Kharkiv kitchen")
    age(db, utcnow() - dt.timedelta(days=2))
    region_code = db.get(m.Place, first_location(db, data.exact).region_id).code  # type: ignore[union-attr]
    first_location(db, data.approx).capacity_available = 0
    data.confidential.archived_at = utcnow()
    db.commit()

    r = client.get("/hsds/changes.atom", params={"region": region_code})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert r.headers["access-control-allow-origin"] == "*"
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.bozo_exception
    titles = [e.title for e in parsed.entries]
    assert titles[:2] in (
        ["Kitchen (active)", "Women's refuge (removed)"],
        ["Women's refuge (removed)", "Kitchen (active)"],
    )
    assert "Kharkiv kitchen (active)" not in titles and len(titles) == 3
    assert all(e.id.startswith("urn:uuid:") for e in parsed.entries)
    assert "Lviv oblast" in parsed.feed.title
    for forbidden in ("Secret street", "79099", "49.84", "24.03"):
        assert forbidden not in r.text
    everything = feedparser.parse(client.get("/hsds/changes.atom").content)
    assert "Kharkiv kitchen (active)" in [e.title for e in everything.entries]
    assert elsewhere.id
    tag = r.headers["etag"]
    again = client.get(
        "/hsds/changes.atom", params={"region": region_code}, headers={"If-None-Match": tag}
    )
    assert again.status_code == 304
    missing = client.get("/hsds/changes.atom", params={"region": "nowhere"})
    assert (
        missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    )
