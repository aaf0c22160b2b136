"""Conditional GET on the public API lists: weak ETag from the data version, 304 without running
the query, a write changes the tag; single records keep their version ETag (If-Match)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.api import public, reads
from directory.listings import queries
from tests.factories import make_account, make_listing, make_place, make_token

LISTS = {
    "/api/v1/services?q=shelter&locale=uk": ("queries", "search_services"),
    "/api/v1/organizations": ("reads", "list_organizations"),
    "/api/v1/locations?limit=10": ("reads", "list_locations"),
    "/api/v1/taxonomy_terms?locale=de": ("queries", "list_categories"),
    "/api/v1/places": ("queries", "list_places"),
    "/api/v1/notices?locale=ar": ("queries", "notices_in_force"),
}


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("the query ran although the client holds the current answer")


@pytest.mark.parametrize("url", list(LISTS))
def test_public_list_answers_304_without_running_the_query(
    client: TestClient,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    make_listing(db, region=make_place(db, name="Lviv oblast"))
    db.commit()
    first = client.get(url)
    assert first.status_code == 200 and "set-cookie" not in first.headers
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"].startswith("public, max-age=")
    module, name = LISTS[url]
    monkeypatch.setattr(queries if module == "queries" else reads, name, _fail)
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"].startswith("public, max-age=")
    assert "set-cookie" not in again.headers


def test_a_published_change_changes_the_tag(client: TestClient, db: Session) -> None:
    region = make_place(db, name="Lviv oblast")
    _svc, loc = make_listing(db, region=region, capacity_maximum=40, capacity_available=0)
    token = make_token(db, make_account(db, "moderator", [region]))
    db.commit()
    before = client.get("/api/v1/locations")
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity",
        json={"available": 12},
        headers={"Authorization": f"Bearer {token}", "If-Match": f'"{loc.version}"'},
    )
    assert r.status_code in (200, 202), r.text
    after = client.get("/api/v1/locations", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["contents"][0]["capacity_available"] == 12
    assert after.headers["etag"] != before.headers["etag"]


def test_requests_with_a_token_get_no_tag_and_no_store(client: TestClient, db: Session) -> None:
    token = make_token(db, make_account(db, "volunteer"))
    db.commit()
    etag = client.get("/api/v1/places").headers["etag"]
    r = client.get(
        "/api/v1/places", headers={"Authorization": f"Bearer {token}", "If-None-Match": etag}
    )
    assert r.status_code == 200 and "etag" not in r.headers
    assert r.headers["cache-control"] == "no-store"


def test_single_records_keep_their_version_tag_and_are_not_validated_by_it(
    client: TestClient,
    db: Session,
) -> None:
    _svc, loc = make_listing(db, region=make_place(db, name="Lviv oblast"))
    db.commit()
    r = client.get(f"/api/v1/locations/{loc.id}")
    assert r.headers["etag"] == f'"{loc.version}"'  # If-Match for writes (CONTRACTS)
    # Its body also shows addresses and phones, which have versions of their own.
    assert (
        client.get(
            f"/api/v1/locations/{loc.id}", headers={"If-None-Match": r.headers["etag"]}
        ).status_code
        == 200
    )


def test_304_is_in_the_api_document(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert "304" in doc["paths"]["/v1/services"]["get"]["responses"]
    assert "200" in doc["paths"]["/v1/services"]["get"]["responses"]
    assert public.NOT_MODIFIED[304]["description"]


def test_a_search_near_a_position_is_private(client: TestClient, db: Session) -> None:
    """Where a client is (lat/lon) never goes into a shared cache (nginx keeps URLs on disk)."""
    make_listing(db, region=make_place(db, name="Lviv oblast"))
    db.commit()
    near = client.get("/api/v1/services?lat=49.84&lon=24.03&sort=distance")
    assert near.status_code == 200
    assert near.headers["cache-control"].startswith("private, max-age=")
    again = client.get(
        "/api/v1/services?lat=49.84&lon=24.03&sort=distance",
        headers={"If-None-Match": near.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["cache-control"].startswith("private, max-age=")
    assert client.get("/api/v1/services").headers["cache-control"].startswith("public, ")
