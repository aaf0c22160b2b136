"""The moderation API presents a new listing proposed as a group as one unit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.moderation import service as mod
from tests.factories import make_account, make_place, make_token
from tests.moderation.test_groups import _listing


def test_queue_shows_a_group_once_and_approving_it_publishes_the_whole_listing(
    db: Session, client: TestClient
) -> None:
    region = make_place(db)
    vol = make_account(db, "volunteer")
    crs = mod.propose_group(db, actor=vol, records=_listing(region.id))
    db.flush()
    auth = {"Authorization": f"Bearer {make_token(db, make_account(db, 'moderator'))}"}
    queue = client.get("/api/v1/moderation/queue", headers=auth).json()
    ours = [i for i in queue["items"] if i["group_id"] == str(crs[0].group_id)]
    assert len(ours) == 1 and ours[0]["entity_type"] == "service"
    assert [g["entity_type"] for g in ours[0]["group"]][:3] == [
        "organization",
        "service",
        "location",
    ]
    assert len(ours[0]["group"]) == 10
    detail = client.get(f"/api/v1/moderation/change-requests/{crs[4].id}", headers=auth).json()
    phone = next(g for g in detail["group"] if g["entity_type"] == "phone")
    assert phone["sensitive"] and {d["field"] for d in phone["diff"]} >= {"number", "location_id"}
    r = client.post(f"/api/v1/moderation/change-requests/{crs[4].id}/approve", headers=auth)
    assert r.status_code == 200, r.text
    assert {g["state"] for g in r.json()["group"]} == {"approved"}
    assert db.get(m.Service, crs[1].entity_id) is not None
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "group_id" in schema["ChangeRequestOut"]["properties"] and "GroupMemberOut" in schema
