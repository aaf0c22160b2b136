"""The interactive map's data (points and clusters for a search and a box), and the base-map
archive served by byte ranges. Confidential places are never in either (issue 14)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from directory.maps import points
from tests.web.seed import seed

WORLD = "-180,-85,180,85"
KHARKIV = "36.0,49.8,36.5,50.2"


def _data(client, query: str) -> dict:
    r = client.get(f"/en/search/map-data?{query}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "set-cookie" not in r.headers
    return json.loads(r.text)


def test_points_are_the_public_places_of_the_search(client, db: Session) -> None:
    data = seed(db)
    body = _data(client, f"bbox={WORLD}&z=3")
    ids = {p[0] for p in body["points"]}
    assert ids == {str(data.warming.id), str(data.closed.id), str(data.consulate.id)}
    assert body["total"] == 3 and body["clusters"] == []
    # the same filters as the list: a category narrows the map too
    shelter = _data(client, f"category=shelter&bbox={WORLD}&z=3")
    assert {p[0] for p in shelter["points"]} == {str(data.closed.id)}
    words = _data(client, f"q=warming&bbox={WORLD}&z=3")
    assert {p[0] for p in words["points"]} == {str(data.warming.id)}
    nothing = _data(client, f"category=no-such&bbox={WORLD}&z=3")
    assert nothing == {"total": 0, "points": [], "clusters": []}
    # the box: nothing outside Kharkiv's box
    far = _data(client, "bbox=20,40,21,41&z=10")
    assert far["total"] == 0


def test_confidential_places_are_never_in_points_or_clusters(
    client, db: Session, monkeypatch
) -> None:
    data = seed(db)
    secret = str(data.confidential.id)
    # the confidential place's raw coordinates (50.45, 30.52: Kyiv) are in this box
    for query in (f"bbox={WORLD}&z=3", "bbox=30,50,31,51&z=12", f"category=shelter&bbox={WORLD}"):
        body = _data(client, query)
        assert secret not in json.dumps(body)
        assert not any(abs(p[1] - 50.45) < 0.01 for p in body["points"])
    assert _data(client, "bbox=30,50,31,51&z=12")["total"] == 0
    # clusters: counted by the database from the same public rows
    monkeypatch.setattr(points, "POINT_LIMIT", 0)
    for z in (1, 5, 9, 14):
        body = _data(client, f"bbox={WORLD}&z={z}")
        assert body["points"] == []
        assert sum(c[2] for c in body["clusters"]) == body["total"] == 3
        assert not any(abs(c[0] - 50.45) < 0.05 for c in body["clusters"])
    kyiv = _data(client, "bbox=30,50,31,51&z=12")
    assert kyiv["clusters"] == [] and kyiv["total"] == 0
    # a women's shelter search: only the confidential one matches, and the map is empty
    only = _data(client, f"women_children=1&bbox={WORLD}&z=3")
    assert only == {"total": 0, "points": [], "clusters": []}


def test_approximate_places_come_rounded(client, db: Session, monkeypatch) -> None:
    from decimal import Decimal

    from sqlalchemy import update

    from directory.listings.models import Location, Privacy
    from tests.factories import first_location

    data = seed(db)
    loc = first_location(db, data.consulate)
    db.execute(
        update(Location)
        .where(Location.id == loc.id)
        .values(privacy=Privacy.approximate, latitude=Decimal("49.983721"))
    )
    db.flush()
    body = _data(client, f"bbox={WORLD}&z=3")
    (p,) = [p for p in body["points"] if p[0] == str(data.consulate.id)]
    assert p[1] == 49.98 and p[3] == 1
    monkeypatch.setattr(points, "POINT_LIMIT", 0)
    clusters = _data(client, f"bbox={WORLD}&z=18")["clusters"]
    assert not any(str(c[0]).startswith("49.9837") for c in clusters)


def test_open_now_uses_the_list_search(client, db: Session) -> None:
    data = seed(db)
    body = _data(client, f"open_now=1&bbox={WORLD}&z=3")
    assert str(data.confidential.id) not in json.dumps(body)
    assert {p[0] for p in body["points"]} <= {str(data.warming.id)}


@pytest.mark.parametrize("bbox", ["", "1,2,3", "a,b,c,d", "10,50,5,40", "nan,1,2,3"])
def test_a_bad_box_is_a_problem_document(client, db: Session, bbox: str) -> None:
    r = client.get(f"/en/search/map-data?bbox={bbox}")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


def test_tapped_marker_card(client, db: Session) -> None:
    data = seed(db)
    r = client.get(f"/uk/services/{data.warming.id}/card")
    assert r.status_code == 200 and "Пункт обігріву, школа 12" in r.text
    assert client.get("/en/services/not-a-uuid/card").status_code == 404


def test_the_base_map_archive_is_served_by_ranges(client, app, tmp_path) -> None:
    archive = tmp_path / "region.pmtiles"
    archive.write_bytes(b"PMTiles" + bytes(range(256)) * 10)
    assert client.get("/map/tiles.pmtiles").status_code == 404  # none configured
    old = app.state.settings.map_pmtiles
    app.state.settings.map_pmtiles = str(archive)
    try:
        part = client.get("/map/tiles.pmtiles", headers={"Range": "bytes=0-6"})
        assert part.status_code == 206 and part.content == b"PMTiles"
        assert part.headers["content-range"] == f"bytes 0-6/{archive.stat().st_size}"
        assert part.headers["accept-ranges"] == "bytes"
        tail = client.get("/map/tiles.pmtiles", headers={"Range": "bytes=-3"})
        assert tail.status_code == 206 and tail.content == bytes([253, 254, 255])
        bad = client.get("/map/tiles.pmtiles", headers={"Range": "bytes=99999-"})
        assert bad.status_code == 416
        whole = client.get("/map/tiles.pmtiles")
        assert whole.status_code == 200 and whole.content == archive.read_bytes()
        page = client.get("/en/search?view=map").text
        assert 'data-pmtiles="/map/tiles.pmtiles"' in page and "protomaps-leaflet" in page
    finally:
        app.state.settings.map_pmtiles = old


def test_a_third_party_tile_server_is_explicit(client, app) -> None:
    old = app.state.settings.map_tile_url
    app.state.settings.map_tile_url = "https://tiles.example.org/{z}/{x}/{y}.png"
    try:
        page = client.get("/en/search?view=map")
        assert (
            "img-src 'self' data: https://tiles.example.org"
            in page.headers["content-security-policy"]
        )
        about = client.get("/en/about").text
        assert "tiles.example.org" in about
    finally:
        app.state.settings.map_tile_url = old
    plain = client.get("/en/search?view=map")
    assert "tiles.example.org" not in plain.headers["content-security-policy"]
    assert "tiles.example.org" not in client.get("/en/about").text
