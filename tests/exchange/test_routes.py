from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.moderation.models import ChangeRequest
from tests.exchange.data import SECRET_STREET, make_dataset
from tests.factories import make_account, make_token


def _auth(db: Session, role: str) -> dict[str, str]:
    headers = {"Authorization": "Bearer " + make_token(db, make_account(db, role))}
    db.commit()  # an error response rolls the request's session back: keep the setup
    return headers


def test_public_export_streams_without_confidential_places(client: TestClient, db: Session) -> None:
    ds = make_dataset(db, tag="api")
    r = client.get("/api/v1/export/hsds-json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert (
        "attachment" in r.headers["content-disposition"] and r.headers["x-export-scope"] == "public"
    )
    assert SECRET_STREET not in r.text
    assert str(ds.exact.id) in {s["id"] for s in r.json()}
    geo = client.get("/api/v1/export/geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert str(ds.secret_loc.id) not in {f["id"] for f in geo.json()["features"]}
    assert client.get("/api/v1/export/xml").status_code == 422


def test_confidential_export_is_for_admins_only(client: TestClient, db: Session) -> None:
    make_dataset(db, tag="api2")
    db.commit()
    assert client.get("/api/v1/export/csv?include_confidential=true").status_code in (401, 403)
    moderator = _auth(db, "moderator")
    assert (
        client.get("/api/v1/export/csv?include_confidential=true", headers=moderator).status_code
        == 403
    )
    r = client.get("/api/v1/export/csv?include_confidential=true", headers=_auth(db, "admin"))
    assert r.status_code == 200 and SECRET_STREET in r.text
    assert r.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["export_scope"] for row in rows} == {"admin-confidential"}


def test_import_over_the_api_returns_the_report(client: TestClient, db: Session) -> None:
    ds = make_dataset(db, tag="api3")
    data = client.get(
        "/api/v1/export/hsds-json?include_confidential=true", headers=_auth(db, "admin")
    ).json()
    for s in data:
        s["description"] = "Updated by the partner"
    upload = {"file": ("partner.json", json.dumps(data).encode(), "application/json")}
    moderator = _auth(db, "moderator")
    dry = client.post("/api/v1/imports", files=upload, headers=moderator)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["ok"] and not body["applied"] and body["file"] == "partner.json"
    assert body["counts"]["service"]["changed"] == 3
    assert (
        client.post(
            "/api/v1/imports",
            files=upload,
            data={"apply": "true", "publish": "true"},
            headers=moderator,
        ).status_code
        == 403
    )
    queued = client.post(
        "/api/v1/imports", files=upload, data={"apply": "true"}, headers=moderator
    ).json()
    assert queued["applied"] and queued["pending"] == 3
    assert len(db.scalars(select(ChangeRequest).where(ChangeRequest.source == "import")).all()) == 3
    published = client.post(
        "/api/v1/imports",
        files=upload,
        data={"apply": "true", "publish": "true"},
        headers=_auth(db, "admin"),
    ).json()
    assert published["published"] and published["change_requests"] == 3
    db.refresh(ds.exact)
    assert ds.exact.description == "Updated by the partner"
    bad_file = {"file": ("x.csv", b"name;other\n1;2\n", "text/csv")}
    checked = client.post("/api/v1/imports", files=bad_file, headers=moderator)
    assert checked.status_code == 200 and not checked.json()["ok"] and checked.json()["refused"]
    bad = client.post("/api/v1/imports", files=bad_file, data={"apply": "true"}, headers=moderator)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "organization_name" in bad.json()["detail"] and bad.json()["report"]["refused"]
    assert client.post("/api/v1/imports", files=upload).status_code == 401
    assert db.scalars(select(m.Service).where(m.Service.name == "x")).first() is None
