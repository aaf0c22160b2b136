"""Never lose an update: many concurrent PATCH requests with the same If-Match on one listing,
against an application with real committed transactions (its own engine, threads) — exactly
one wins, the others get 412, and the audit log holds exactly the winning change.
On SQLite (a fresh file) and on PostgreSQL (the suite's database, cleaned up afterwards)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select

from directory.accounts.models import Account, ApiToken
from directory.app import create_app
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker
from directory.listings import models as m
from directory.migrate import upgrade
from directory.moderation.models import AuditEntry, ChangeRequest
from tests.factories import make_account, make_listing, make_place, make_token

WRITERS = 8


@pytest.fixture()
def live(db_url: str, engine: Engine, tmp_path: Any) -> Iterator[tuple[FastAPI, Engine]]:
    """An app on a database whose commits are real (not the rolled-back test transaction)."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'concurrency.db'}"
        upgrade(url)
    else:
        url = db_url  # migrated by the `engine` fixture; rows are removed afterwards
    eng = make_engine(url)
    app = create_app(Settings(database_url=url, secret_key="k" * 40), engine=eng)
    try:
        yield app, eng
    finally:
        eng.dispose()


def _seed(eng: Engine) -> dict[str, Any]:
    with make_sessionmaker(eng)() as db:
        region = make_place(db)
        svc, loc = make_listing(db, region=region)
        moderators = [make_account(db, "moderator") for _ in range(WRITERS)]
        volunteers = [make_account(db, "volunteer") for _ in range(WRITERS)]
        approver = make_account(db, "moderator")
        out = {
            "region": region.id,
            "service": svc.id,
            "location": loc.id,
            "organization": svc.organization_id,
            "moderator_tokens": [make_token(db, a) for a in moderators],
            "volunteer_tokens": [make_token(db, a) for a in volunteers],
            "approver_token": make_token(db, approver),
            "accounts": [a.id for a in [*moderators, *volunteers, approver]],
        }
        db.commit()
        return out


def _cleanup(eng: Engine, seed: dict[str, Any]) -> None:
    with make_sessionmaker(eng)() as db:
        ids = [seed["location"], seed["service"], seed["organization"]]
        db.execute(delete(AuditEntry).where(AuditEntry.entity_id.in_(ids)))
        db.execute(delete(ChangeRequest).where(ChangeRequest.entity_id.in_(ids)))
        db.execute(delete(m.ServiceSearch).where(m.ServiceSearch.service_id == seed["service"]))
        db.execute(delete(m.Phone).where(m.Phone.location_id == seed["location"]))
        db.execute(
            delete(m.ServiceAtLocation).where(m.ServiceAtLocation.location_id == seed["location"])
        )
        db.execute(delete(m.Location).where(m.Location.id == seed["location"]))
        db.execute(delete(m.Service).where(m.Service.id == seed["service"]))
        db.execute(delete(m.Organization).where(m.Organization.id == seed["organization"]))
        db.execute(delete(ApiToken).where(ApiToken.account_id.in_(seed["accounts"])))
        db.execute(delete(Account).where(Account.id.in_(seed["accounts"])))
        db.execute(delete(m.Place).where(m.Place.id == seed["region"]))
        db.commit()


def _race(app: FastAPI, calls: list[tuple[str, str, dict[str, Any], dict[str, str]]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        method, url, body, headers = calls[i]
        client = TestClient(app)
        barrier.wait()
        r = client.request(method, url, json=body, headers=headers)
        results[i] = (r.status_code, r.json(), r.headers.get("etag"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_patches_same_if_match_exactly_one_wins(live: tuple[FastAPI, Engine]) -> None:
    app, eng = live
    seed = _seed(eng)
    try:
        url = f"/api/v1/locations/{seed['location']}/capacity"
        calls = [
            (
                "PATCH",
                url,
                {"available": i + 1},
                {"Authorization": f"Bearer {tok}", "If-Match": '"1"'},
            )
            for i, tok in enumerate(seed["moderator_tokens"])
        ]
        results = _race(app, calls)
        statuses = sorted(r[0] for r in results)
        assert statuses == [200] + [412] * (WRITERS - 1), results
        winner = next(r for r in results if r[0] == 200)
        for status, body, etag in results:
            if status == 412:
                assert body["current_version"] == 2 and etag == '"2"'
                assert body["type"] == "about:blank" and body["status"] == 412
        with make_sessionmaker(eng)() as db:
            loc = db.get(m.Location, seed["location"])
            assert loc is not None and loc.version == 2
            assert loc.capacity_available == winner[1]["fields"]["capacity_available"]
            entries = list(
                db.scalars(select(AuditEntry).where(AuditEntry.entity_id == seed["location"]))
            )
            assert len(entries) == 1
            assert entries[0].changes["capacity_available"] == [10, loc.capacity_available]
            applied = db.scalar(
                select(func.count())
                .select_from(ChangeRequest)
                .where(ChangeRequest.entity_id == seed["location"])
            )
            assert applied == 1  # the losers' change requests were rolled back with them
    finally:
        _cleanup(eng, seed)


def test_concurrent_proposals_then_only_one_can_be_approved(live: tuple[FastAPI, Engine]) -> None:
    app, eng = live
    seed = _seed(eng)
    try:
        url = f"/api/v1/locations/{seed['location']}/capacity"
        calls = [
            (
                "PATCH",
                url,
                {"available": i + 1},
                {"Authorization": f"Bearer {tok}", "If-Match": '"1"'},
            )
            for i, tok in enumerate(seed["volunteer_tokens"])
        ]
        results = _race(app, calls)
        assert [r[0] for r in results] == [202] * WRITERS
        approver = {"Authorization": f"Bearer {seed['approver_token']}"}
        client = TestClient(app)
        outcomes = [
            client.post(
                f"/api/v1/moderation/change-requests/{r[1]['id']}/approve", headers=approver
            )
            for r in results
        ]
        assert sorted(o.status_code for o in outcomes) == [200] + [409] * (WRITERS - 1)
        conflict = next(o for o in outcomes if o.status_code == 409).json()
        assert (
            conflict["current_version"] == 2
            and conflict["diff"][0]["field"] == "capacity_available"
        )
        with make_sessionmaker(eng)() as db:
            assert (
                db.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.entity_id == seed["location"])
                )
                == 1
            )
    finally:
        _cleanup(eng, seed)
