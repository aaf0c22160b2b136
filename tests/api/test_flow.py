"""The whole story over HTTP: a volunteer proposes, a moderator approves, the public sees it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_account, make_listing, make_place, make_token


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def test_volunteer_moderator_public_flow(client: TestClient, db: Session) -> None:
    region = make_place(db, name="Lviv oblast")
    svc, loc = make_listing(db, region=region, capacity_maximum=40, capacity_available=0)
    maria = make_account(db, "volunteer", [region], email="maria@example.org")
    taras = make_account(db, "moderator", [region], email="taras@example.org")
    maria.display_name, taras.display_name = "Maria", "Taras"
    vol_token, mod_token = make_token(db, maria), make_token(db, taras)
    db.commit()  # error responses roll back to here, not past the test's own data

    public = client.get(f"/api/v1/locations/{loc.id}")
    assert public.status_code == 200
    etag = public.headers["ETag"]
    before = client.get(f"/api/v1/services/{svc.id}").json()
    assert before["assured_date"] is None

    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity",
        json={"available": 12},
        headers=_auth(vol_token, **{"If-Match": etag}),
    )
    assert r.status_code == 202, r.text
    change = r.json()
    assert change["state"] == "pending" and change["fields"] == {"capacity_available": 12}
    assert r.headers["Location"] == f"/api/v1/moderation/change-requests/{change['id']}"
    # Not published yet.
    assert client.get(f"/api/v1/locations/{loc.id}").json()["capacity_available"] == 0
    mine = client.get("/api/v1/me/change-requests", headers=_auth(vol_token)).json()
    assert [c["id"] for c in mine] == [change["id"]]
    # The author cannot approve it.
    r = client.post(
        f"/api/v1/moderation/change-requests/{change['id']}/approve", headers=_auth(vol_token)
    )
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"

    queue = client.get("/api/v1/moderation/queue", headers=_auth(mod_token)).json()
    assert [i["id"] for i in queue["items"]] == [change["id"]] and queue["counts"]["capacity"] == 1
    detail = client.get(
        f"/api/v1/moderation/change-requests/{change['id']}", headers=_auth(mod_token)
    ).json()
    assert detail["diff"] == [
        {
            "field": "capacity_available",
            "locale": None,
            "current": 0,
            "proposed": 12,
            "sensitive": False,
            "entity_type": None,
            "entity_id": None,
        }
    ]
    r = client.post(
        f"/api/v1/moderation/change-requests/{change['id']}/approve", headers=_auth(mod_token)
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.headers["ETag"] == '"2"'

    after = client.get(f"/api/v1/locations/{loc.id}").json()
    assert after["capacity_available"] == 12 and after["capacity_updated"]
    svc_after = client.get(f"/api/v1/services/{svc.id}").json()
    assert svc_after["assured_date"] is not None
    assert svc_after["service_at_locations"][0]["location"]["capacity_available"] == 12

    audit = client.get(
        "/api/v1/moderation/audit", params={"entity_id": str(loc.id)}, headers=_auth(mod_token)
    ).json()
    assert len(audit) == 1
    assert audit[0]["author"] == "Maria" and audit[0]["approver"] == "Taras"
    assert audit[0]["changes"]["capacity_available"] == [0, 12]
    assert (
        client.get("/api/v1/me/change-requests", headers=_auth(vol_token)).json()[0]["state"]
        == "approved"
    )


def test_if_match_missing_428_stale_412(client: TestClient, db: Session) -> None:
    _, loc = make_listing(db)
    token = make_token(db, make_account(db, "moderator"))
    db.commit()
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity", json={"available": 3}, headers=_auth(token)
    )
    assert r.status_code == 428 and r.json()["status"] == 428
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity",
        json={"available": 3},
        headers=_auth(token, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity",
        json={"available": 4},
        headers=_auth(token, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 412 and r.json()["current_version"] == 2
    assert r.headers["ETag"] == '"2"'


def test_validation_problems_name_each_field(client: TestClient, db: Session) -> None:
    svc, loc = make_listing(db)
    token = make_token(db, make_account(db, "admin"))
    db.commit()
    h = _auth(token, **{"If-Match": '"1"'})
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity", json={"available": 50, "total": 10}, headers=h
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "#/available",
            "detail": "free places cannot exceed the total",
            "code": "free_places_over_total",
        }
    ]
    r = client.patch(
        f"/api/v1/locations/{loc.id}",
        headers=h,
        json={"latitude": 95, "capacity_available": -1, "url": "ftp://x"},
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {"#/latitude", "#/capacity_available", "#/url"} <= pointers
    r = client.patch(
        f"/api/v1/services/{svc.id}/status",
        headers=h,
        json={"status": "full", "until": "2001-01-01T00:00:00Z", "reason": {"xx": "?"}},
    )
    assert r.status_code == 422
    r = client.patch(
        f"/api/v1/services/{svc.id}/status",
        headers=h,
        json={"status": "full", "until": "2001-01-01T00:00:00Z"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/until"
    r = client.post(
        "/api/v1/phones", headers=h, json={"location_id": str(loc.id), "number": "0441234567"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/number"


def test_errors_are_problem_documents(client: TestClient, db: Session) -> None:
    for method, url in [
        ("GET", "/api/v1/nothing-here"),
        ("GET", "/api/v2/services"),
        ("PUT", "/api/v1/services"),
        ("GET", "/api/v1/services/not-a-uuid"),
        ("GET", "/api/v1/services?limit=1000"),
        ("GET", "/api/v1/services/00000000-0000-0000-0000-000000000000"),
    ]:
        r = client.request(method, url)
        assert r.status_code in (404, 405, 422), (method, url, r.status_code)
        assert r.headers["content-type"] == "application/problem+json", url
        assert r.json()["status"] == r.status_code
    r = client.post(
        "/api/v1/services",
        content=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code in (401, 415)


def test_unknown_token_401_rate_limited_429(client: TestClient, db: Session) -> None:
    from directory.accounts import throttle

    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    for _ in range(throttle.TOKEN_ADDRESS.limit):
        r = client.get("/api/v1/me", headers=_auth("aid_wrong"))
        assert r.status_code == 401
    r = client.get("/api/v1/me", headers=_auth("aid_wrong"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_public_report_lands_in_queue(client: TestClient, db: Session) -> None:
    svc, _ = make_listing(db)
    token = make_token(db, make_account(db, "moderator"))
    db.commit()
    r = client.post(
        f"/api/v1/services/{svc.id}/reports", json={"kind": "locked", "text": "Closed door"}
    )
    assert r.status_code == 201 and r.json()["state"] == "received"
    assert r.headers.get("set-cookie") is None
    queue = client.get("/api/v1/moderation/queue", headers=_auth(token)).json()
    assert queue["reports"][0]["kind"] == "locked" and queue["counts"]["reports"] == 1
    r = client.post(f"/api/v1/services/{svc.id}/reports", json={"kind": "burnt"})
    assert r.status_code == 422


def test_confidential_location_never_revealed(client: TestClient, db: Session) -> None:
    from directory.listings.models import Address

    _, loc = make_listing(db, privacy="confidential")
    db.add(Address(location_id=loc.id, address_1="Secret street 5", city="Kyiv", country="UA"))
    db.flush()
    for url in [f"/api/v1/locations/{loc.id}", "/api/v1/locations"]:
        body = client.get(url).text
        assert "Secret street" not in body and "50.45" not in body and "+380441234567" not in body
    vol_token = make_token(db, make_account(db, "volunteer"))
    db.commit()
    from sqlalchemy import select

    from directory.listings.models import Phone

    phone = db.scalars(select(Phone).where(Phone.location_id == loc.id)).one()
    r = client.get(f"/api/v1/phones/{phone.id}", headers=_auth(vol_token))
    assert r.status_code == 403


def test_openapi_and_docs_served_from_our_origin(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/v1/locations/{location_id}/capacity" in spec["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "<script" not in docs.text
    assert "://" not in docs.text  # nothing loaded from another origin
    assert "/api/v1/services/{service_id}/status" in docs.text


def test_odd_paths_under_api_are_problems(client: TestClient) -> None:
    for url in ["/api", "/api/", "/api/v1/services/%0A/x"]:
        r = client.post(url) if "reports" in url else client.get(url)
        assert r.status_code in (404, 405), url
        assert r.headers["content-type"] == "application/problem+json", url


def test_oversized_and_non_json_bodies(client: TestClient, db: Session, settings) -> None:  # type: ignore[no-untyped-def]
    _, loc = make_listing(db)
    token = make_token(db, make_account(db, "moderator"))
    db.commit()
    h = _auth(token, **{"If-Match": '"1"', "Content-Type": "application/json"})
    big = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    r = client.patch(f"/api/v1/locations/{loc.id}", content=big, headers=h)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    r = client.patch(
        f"/api/v1/locations/{loc.id}",
        content=b"available=3",
        headers={**h, "Content-Type": "text/plain"},
    )
    assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json"
    r = client.patch(f"/api/v1/locations/{loc.id}", content=b"{not json", headers=h)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_author_diff_hides_published_whereabouts(client: TestClient, db: Session) -> None:
    _, loc = make_listing(db, privacy="confidential")
    vol, mod = make_account(db, "volunteer"), make_account(db, "moderator")
    vol_token, mod_token = make_token(db, vol), make_token(db, mod)
    db.commit()
    r = client.patch(
        f"/api/v1/locations/{loc.id}",
        json={"latitude": 49.0, "longitude": 24.0},
        headers=_auth(vol_token, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 202 and r.json()["sensitive"] is True
    url = f"/api/v1/moderation/change-requests/{r.json()['id']}"
    seen_by_author = client.get(url, headers=_auth(vol_token)).json()
    assert "50.45" not in str(seen_by_author) and all(
        d["current"] is None for d in seen_by_author["diff"]
    )
    seen_by_moderator = client.get(url, headers=_auth(mod_token)).json()
    assert {d["current"] for d in seen_by_moderator["diff"]} == {"50.450000", "30.520000"}


def test_moderator_posts_a_regional_notice_read_in_ukrainian(
    client: TestClient, db: Session
) -> None:
    region = make_place(db, name="Dnipro oblast")
    token = make_token(db, make_account(db, "moderator", [region]))
    db.commit()
    r = client.post(
        "/api/v1/notices",
        headers=_auth(token),
        json={
            "region_id": str(region.id),
            "severity": "danger",
            "title": "Air-raid alert",
            "body": "Go to the nearest shelter.",
            "translations": {
                "title": {"uk": "Повітряна тривога"},
                "body": {"uk": "Йдіть в укриття."},
            },
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/api/v1/notices/{r.json()['entity_id']}"
    notices = client.get(
        "/api/v1/notices", params={"place_id": str(region.id), "locale": "uk"}
    ).json()
    assert [n["title"] for n in notices["contents"]] == ["Повітряна тривога"]
    r = client.post(
        "/api/v1/notices",
        headers=_auth(token),
        json={"title": "Bad", "valid_until": "2001-01-01T00:00:00Z"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/valid_until"


def test_a_bug_is_still_a_problem_document(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from directory.api import public

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(public.queries, "list_categories", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/taxonomy_terms")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in r.text and "bug" not in r.text
