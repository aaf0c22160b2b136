"""The HSDS 3.1 API under /hsds/: the endpoints and parameters of Open Referral's API
reference, the exporter's records with the public redaction, pages and ndjson, ETag/304, CORS
for reads only, problem documents for bad parameters, and every record valid against HSDS 3.1
(and, strictly, against the published profile)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.exchange import profile
from tests.hsds_api.data import SECRET_POSTCODE, SECRET_STREET, Seed, seed
from tests.hsds_api.validate import hsds_errors, profile_errors

#: The profile declares the exporter's extensions once hsds31's patches are in; until then
#: the records are checked against plain HSDS 3.1 only.
PROFILE_READY = profile.patch("service.json") is not None


def check(record: Any, name: str) -> None:
    assert hsds_errors(record, name) == [], (name, hsds_errors(record, name)[:5])
    if PROFILE_READY:
        assert profile_errors(record, name) == [], (name, profile_errors(record, name)[:5])


@pytest.fixture()
def data(db: Session) -> Seed:
    found = seed(db)
    db.commit()
    return found


def test_root_declares_version_profile_and_openapi(client: TestClient) -> None:
    for path in ("/hsds/", "/hsds"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        body = r.json()
        assert body["version"] == "3.1"
        assert body["profile"] == "http://testserver/hsds/profile/"
        assert body["openapi_url"] == "http://testserver/hsds/profile/schema/openapi.json"
    assert client.get("/hsds/profile/schema/openapi.json").json()["openapi"].startswith("3.1")


def test_services_page_list_full_and_minimal(client: TestClient, data: Seed) -> None:
    r = client.get("/hsds/services", params={"per_page": 2})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    page = r.json()
    assert page["total_items"] == 3 and page["total_pages"] == 2 and page["size"] == 2
    assert page["first_page"] and not page["last_page"] and not page["empty"]
    for item in page["contents"]:
        assert "phones" not in item and "service_at_locations" not in item
        assert item["organization"]["name"] == "Warm Hands"
        check(item, "service.json")
    second = client.get("/hsds/services", params={"per_page": 2, "page": 2}).json()
    assert second["page_number"] == 2 and second["last_page"] and second["size"] == 1
    ids = {s["id"] for s in page["contents"] + second["contents"]}
    assert ids == {str(data.exact.id), str(data.approx.id), str(data.confidential.id)}
    beyond = client.get("/hsds/services", params={"page": 99}).json()
    assert beyond["empty"] and beyond["contents"] == [] and beyond["total_items"] == 3
    # The official document allows any integer: below 1 is the first page, per_page is clamped.
    low = client.get("/hsds/services", params={"page": -3, "per_page": 0}).json()
    assert low["page_number"] == 1 and low["size"] == 1

    full = client.get("/hsds/services", params={"full": "true"}).json()["contents"]
    assert all("service_at_locations" in s and "phones" in s for s in full)
    for s in full:
        check(s, "service.json")
    minimal = client.get("/hsds/services", params={"minimal": "true"}).json()["contents"]
    assert all(set(s) == {"id", "name", "status", "last_modified"} for s in minimal)


def test_service_by_id_is_the_exporters_record(client: TestClient, data: Seed, db: Session) -> None:
    from directory.exchange.records import ExportOptions, iter_services

    r = client.get(f"/hsds/services/{data.exact.id}")
    assert r.status_code == 200
    record = r.json()
    exported = {s["id"]: s for s in iter_services(db, ExportOptions())}
    assert record == json.loads(json.dumps(exported[str(data.exact.id)]))
    check(record, "service.json")
    assert record["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] == "79000"
    for missing in ("nope", "00000000-0000-0000-0000-000000000000"):
        r = client.get(f"/hsds/services/{missing}")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_confidential_and_approximate_places_are_redacted_everywhere(
    client: TestClient, data: Seed
) -> None:
    bodies = [
        client.get("/hsds/services", params={"full": "true"}).text,
        client.get(f"/hsds/services/{data.confidential.id}").text,
        client.get("/hsds/service_at_locations", params={"full": "true"}).text,
        client.get(f"/hsds/organizations/{data.org.id}", params={"full_service": "true"}).text,
        client.get("/hsds/services", params={"format": "ndjson", "full": "true"}).text,
        client.get("/hsds/service_at_locations", params={"format": "ndjson"}).text,
    ]
    for body in bodies:
        assert SECRET_STREET not in body and SECRET_POSTCODE not in body
        assert "Hidden lane" not in body  # approximate: no street either
        assert "49.8421" not in body and "24.0311" not in body  # confidential coordinates
        assert "49.8412" not in body  # approximate: rounded only
    conf = client.get(f"/hsds/services/{data.confidential.id}").json()
    loc = conf["service_at_locations"][0]["location"]
    assert "latitude" not in loc and loc["addresses"] == [] and loc.get("x_redacted") is True
    assert [p["number"] for p in loc["phones"]] == ["+380441111111"]  # the hotline only
    # Neither the postcode nor the distance finds a confidential place.
    for query in ({"postcode": SECRET_POSTCODE}, {"postcode": "79000", "proximity": "100000"}):
        found = client.get("/hsds/service_at_locations", params=query).json()["contents"]
        assert str(data.confidential.id) not in {s["service_id"] for s in found}


def test_filters_are_cumulative(client: TestClient, data: Seed) -> None:
    def ids(**query: str) -> set[str]:
        r = client.get("/hsds/services", params=query)
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["contents"]}

    exact, conf = str(data.exact.id), str(data.confidential.id)
    assert ids(taxonomy_term_id=str(data.term.id)) == {exact, conf}
    assert ids(taxonomy_id=str(data.taxonomy.id)) == {exact, conf}
    assert ids(taxonomy_id=str(data.taxonomy.id), search="night") == {exact}
    assert ids(organization_id=str(data.org.id), search="kitchen") == {str(data.approx.id)}
    assert ids(organization_id="00000000-0000-0000-0000-000000000000") == set()
    assert ids(organization_id="not-an-id") == set()
    assert ids(search="zzzqqq") == set()
    assert ids(search="\x00 night \x1f") == {exact}

    orgs = client.get("/hsds/organizations", params={"taxonomy_term_id": str(data.term.id)})
    assert [o["id"] for o in orgs.json()["contents"]] == [str(data.org.id)]
    for o in orgs.json()["contents"]:
        check(o, "organization.json")


def test_organizations_and_full_services(client: TestClient, data: Seed) -> None:
    org = client.get(f"/hsds/organizations/{data.org.id}").json()
    assert org["name"] == "Warm Hands" and len(org["services"]) == 3
    assert all("service_at_locations" not in s for s in org["services"])
    check(org, "organization.json")
    full = client.get(f"/hsds/organizations/{data.org.id}", params={"full_service": "true"}).json()
    assert all("service_at_locations" in s for s in full["services"])
    check(full, "organization.json")
    listed = client.get("/hsds/organizations", params={"search": "warm"}).json()
    assert listed["total_items"] == 1
    assert client.get("/hsds/organizations/nope").status_code == 404


def test_service_at_locations_postcode_and_proximity(client: TestClient, data: Seed) -> None:
    def services(**query: str) -> set[str]:
        r = client.get("/hsds/service_at_locations", params=query)
        assert r.status_code == 200, r.text
        for item in r.json()["contents"]:
            check(item, "service_at_location.json")
        return {item["service_id"] for item in r.json()["contents"]}

    assert len(services()) == 3
    # Only the exact place publishes its postcode.
    assert services(postcode="79 000") == {str(data.exact.id)}
    # Within 1 km of the postcode's centre: the exact place and the (rounded) approximate one.
    near = services(postcode="79000", proximity="1000")
    assert near == {str(data.exact.id), str(data.approx.id)}
    assert services(postcode="00000", proximity="1000") == set()
    one = client.get(f"/hsds/service_at_locations/{data.sal.id}").json()
    assert one["service_id"] == str(data.exact.id) and one["location"]["name"]
    check(one, "service_at_location.json")
    assert client.get("/hsds/service_at_locations/nope").status_code == 404


def test_taxonomies_and_terms(client: TestClient, data: Seed) -> None:
    tax = client.get("/hsds/taxonomies").json()["contents"]
    assert [t["id"] for t in tax] == [str(data.taxonomy.id)]
    check(tax[0], "taxonomy.json")
    assert client.get(f"/hsds/taxonomies/{data.taxonomy.id}").json()["name"]
    terms = client.get("/hsds/taxonomy_terms", params={"taxonomy_id": str(data.taxonomy.id)})
    assert [t["id"] for t in terms.json()["contents"]] == [str(data.term.id)]
    check(terms.json()["contents"][0], "taxonomy_term.json")
    one = client.get(f"/hsds/taxonomy_terms/{data.term.id}").json()
    assert one["code"] == "shelter-test"
    top = client.get("/hsds/taxonomy_terms", params={"top_only": "true", "search": "shelter"})
    assert str(data.term.id) in {t["id"] for t in top.json()["contents"]}


def test_ndjson_streams_the_whole_collection(client: TestClient, data: Seed) -> None:
    r = client.get("/hsds/services", params={"format": "ndjson", "per_page": 1})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert len(lines) == 3  # all of them, no pages
    for s in lines:
        check(s, "service.json")


def test_etag_and_304_and_cache_headers(client: TestClient, data: Seed, db: Session) -> None:
    r = client.get("/hsds/services")
    tag = r.headers["etag"]
    assert tag.startswith('W/"') and "public" in r.headers["cache-control"]
    again = client.get("/hsds/services", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    one = client.get(f"/hsds/services/{data.exact.id}")
    assert (
        client.get(
            f"/hsds/services/{data.exact.id}", headers={"If-None-Match": one.headers["etag"]}
        ).status_code
        == 304
    )
    # A change to public data changes the tag.
    data.exact.name = "Night shelter (moved)"
    db.commit()  # the flush gives the directory a new data version (listings.generation)
    assert client.get("/hsds/services", headers={"If-None-Match": tag}).status_code == 200


def test_cors_is_open_for_reads_only(client: TestClient, data: Seed) -> None:
    r = client.get("/hsds/services")
    assert r.headers["access-control-allow-origin"] == "*"
    assert "ETag" in r.headers["access-control-expose-headers"]
    pre = client.options(
        "/hsds/services",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-methods"] == "GET, HEAD"
    assert pre.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    post = client.post("/hsds/services")
    assert post.status_code == 200 and "access-control-allow-origin" not in post.headers
    assert post.json()["total_items"] == 3  # the official document's read alias
    put = client.put("/hsds/services")
    # HEAD answers wherever GET does (runtime.HeadAsGet), so a 405's Allow names it too
    assert put.status_code == 405 and set(put.headers["allow"].split(", ")) == {
        "GET",
        "HEAD",
        "POST",
    }
    assert put.headers["content-type"] == "application/problem+json"
    # Other parts of the site stay closed to other origins.
    assert "access-control-allow-origin" not in client.get("/api/v1/services").headers


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"modified_after": "yesterday"}, "modified_after"),
        ({"modified_after": "2026-13-45"}, "modified_after"),
        ({"page": "two"}, "page"),
        ({"full": "perhaps"}, "full"),
    ],
)
def test_bad_parameters_are_problem_documents(
    client: TestClient, query: dict[str, str], parameter: str
) -> None:
    r = client.get("/hsds/services", params=query)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422 and parameter in json.dumps(body["errors"])
    r = client.get("/hsds/service_at_locations", params={"postcode": "1", "proximity": "far"})
    assert r.status_code == 422 and "proximity" in r.text


def test_errors_below_the_app_are_problem_documents_too(client: TestClient) -> None:
    r = client.get("/hsds/services", headers={"Content-Length": "abc"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
