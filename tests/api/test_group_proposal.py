"""`POST /api/v1/groups`: a whole new listing in one request, through the moderation write path
as ONE group of change requests (as the web form and the importer propose it)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.listings import models as m
from tests.factories import make_account, make_place, make_token


def _body(region_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization": {"name": "Demo: Fictional Relief Group"},
        "service": {"name": "Demo: Warming point at the library"},
        "location": {"name": "Demo: Library", "region_id": region_id, "timezone": "Europe/Kyiv"},
        "address": {"address_1": "vul. Demo 5", "city": "Kharkiv", "country": "UA"},
        "phones": [{"number": "+380441234567"}, {"number": "+380441234568", "type": "cell"}],
        "schedules": [
            {"freq": "WEEKLY", "byday": "MO,TU,WE", "opens_at": "09:00", "closes_at": "18:00"},
            {"freq": "WEEKLY", "byday": "SA", "opens_at": "10:00", "closes_at": "14:00"},
        ],
        "comment": "seen it today",
    }
    body.update(over)
    return body


def test_a_volunteer_proposes_a_whole_listing_as_one_group(db: Session, client: TestClient) -> None:
    region = make_place(db)
    auth = {"Authorization": f"Bearer {make_token(db, make_account(db, 'volunteer', [region]))}"}
    db.commit()
    r = client.post("/api/v1/groups", json=_body(str(region.id)), headers=auth)
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["entity_type"] == "service" and out["state"] == "pending"
    kinds = [g["entity_type"] for g in out["group"]]
    assert kinds[:3] == ["organization", "service", "location"]
    assert sorted(kinds) == sorted(
        ["organization", "service", "location", "address", "phone", "phone", "schedule", "schedule"]
    )
    assert {g["state"] for g in out["group"]} == {"pending"}
    # the records refer to each other
    ids = {g["entity_type"]: g["entity_id"] for g in out["group"]}
    fields = {g["entity_type"]: g["fields"] for g in out["group"]}
    assert fields["service"]["organization_id"] == ids["organization"]
    assert fields["address"]["location_id"] == ids["location"]
    assert fields["phone"]["location_id"] == ids["location"]
    assert db.get(m.Service, uuid.UUID(out["entity_id"])) is None  # nothing published yet

    # a moderator approves the group as one
    mod = {"Authorization": f"Bearer {make_token(db, make_account(db, 'moderator'))}"}
    db.commit()
    r = client.post(f"/api/v1/moderation/change-requests/{out['id']}/approve", headers=mod)
    assert r.status_code == 200, r.text
    assert {g["state"] for g in r.json()["group"]} == {"approved"}
    page = client.get(f"/api/v1/services/{out['entity_id']}").json()
    assert page["name"] == "Demo: Warming point at the library"


def test_errors_point_into_the_body_and_leave_nothing_behind(
    db: Session, client: TestClient
) -> None:
    region = make_place(db)
    auth = {"Authorization": f"Bearer {make_token(db, make_account(db, 'volunteer', [region]))}"}
    db.commit()
    before = db.query(m.Organization).count()
    body = _body(str(region.id), phones=[{"number": "+380441234567"}, {"number": "12"}])
    r = client.post("/api/v1/groups", json=body, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "#/phones/1/number"
    db.expire_all()
    assert db.query(m.Organization).count() == before


def test_a_group_needs_a_writer(db: Session, client: TestClient) -> None:
    r = client.post("/api/v1/groups", json=_body(str(make_place(db).id)))
    assert r.status_code == 401
