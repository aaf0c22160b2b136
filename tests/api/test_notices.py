"""GET /api/v1/notices: without a place every notice in force (nationwide and each region's),
with a place those of that place, the places above it and nationwide ones; kind and zone."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.listings.models import Notice, NoticeKind, Severity
from tests.factories import make_city


def test_notices_without_a_place_list_every_notice_in_force(
    client: TestClient, db: Session
) -> None:
    now = dt.datetime.now(dt.UTC)
    dnipro = make_city(db, name="Dnipropetrovsk Oblast")
    warsaw = make_city(db, name="Masovian Voivodeship", tz="Europe/Warsaw")
    db.add_all(
        [
            Notice(
                region_id=dnipro.id,
                kind=NoticeKind.alert,
                severity=Severity.danger,
                title="Air-raid alert",
                valid_from=now - dt.timedelta(minutes=5),
            ),
            Notice(
                region_id=warsaw.id, title="Reception point", valid_from=now - dt.timedelta(hours=1)
            ),
            Notice(title="Nationwide", valid_from=now - dt.timedelta(days=1)),
            Notice(
                region_id=dnipro.id,
                title="Ended",
                valid_from=now - dt.timedelta(days=2),
                valid_until=now - dt.timedelta(days=1),
            ),
        ]
    )
    db.flush()
    body = client.get("/api/v1/notices").json()
    got = {n["title"]: n for n in body["contents"]}
    assert set(got) == {"Air-raid alert", "Reception point", "Nationwide"}
    assert (
        got["Air-raid alert"]["kind"] == "alert"
        and got["Air-raid alert"]["timezone"] == "Europe/Kyiv"
    )
    assert got["Reception point"]["timezone"] == "Europe/Warsaw"
    assert got["Nationwide"]["region"] is None and got["Nationwide"]["timezone"] == "Europe/Kyiv"
    only = client.get("/api/v1/notices", params={"place_id": str(warsaw.id)}).json()["contents"]
    assert len(only) == 2 and {n["kind"] for n in only} == {"general"}


def test_api_writes_follow_the_moderators_regions(client: TestClient, db: Session) -> None:
    from tests.factories import make_account, make_token

    kyiv = make_city(db, name="Kyiv Oblast")
    dnipro = make_city(db, name="Dnipropetrovsk Oblast")
    token = make_token(db, make_account(db, "moderator", [kyiv]))
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post(
        "/api/v1/notices",
        headers=auth,
        json={"region_id": str(kyiv.id), "kind": "alert", "severity": "danger", "title": "Alert"},
    )
    assert r.status_code == 201, r.text
    created = client.get("/api/v1/notices", params={"place_id": str(kyiv.id)}).json()["contents"]
    assert [(n["kind"], n["title"]) for n in created] == [("alert", "Alert")]
    for body in ({"region_id": str(dnipro.id), "title": "Elsewhere"}, {"title": "Nationwide"}):
        r = client.post("/api/v1/notices", headers=auth, json=body)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/api/v1/notices", headers=auth, json={"title": "x", "kind": "meteor"})
    assert r.status_code == 422
