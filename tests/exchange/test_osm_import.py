"""`import --format osm`: OpenStreetMap extracts (.osm.pbf written here with osmium, and Overpass
JSON) become change requests for moderators — never published — with the tag → category
mapping, names per locale, hours, amenities, the OSM id and the ODbL attribution; a re-import
proposes nothing new, a changed feature an update, a feature near a similar listing no new
listing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import osmium
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.exchange.osm import ATTRIBUTION, ID_TYPE
from directory.exchange.osm.convert import location_id, service_id
from directory.exchange.osm.hours import parse_opening_hours
from directory.exchange.osm.mapping import MappingError, load_mapping
from directory.exchange.osm.reader import Feature
from directory.exchange.osm.run import run_osm_import
from directory.listings import models as m
from directory.listings.places import ensure_places
from directory.listings.taxonomy import ensure_taxonomy
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest, ChangeState
from tests.factories import make_account

KYIV = (50.4501, 30.5234)

SHELTER = {
    "military": "bunker",
    "bunker_type": "bomb_shelter",
    "name": "Укриття школи 5",
    "name:en": "School 5 shelter",
    "name:ar": "ملجأ المدرسة 5",
    "opening_hours": "Mo-Fr 08:00-20:00; Sa 10:00-14:00",
    "wheelchair": "yes",
    "capacity": "120",
    "addr:street": "вулиця Хрещатик",
    "addr:housenumber": "5",
    "addr:city": "Київ",
    "phone": "+380 44 123 4567",
}
WATER = {"amenity": "drinking_water", "opening_hours": "ask the guard, sometimes"}
CAFE = {"amenity": "cafe", "name": "Not aid"}  # no rule: never read


@pytest.fixture()
def mapping() -> Any:
    return load_mapping()


@pytest.fixture()
def ready(db: Session) -> Session:
    ensure_taxonomy(db)
    ensure_places(db)
    db.flush()
    return db


def _pbf(path: Path, nodes: list[tuple[int, float, float, dict[str, str]]], ways: Any = ()) -> Path:
    """A small .osm.pbf: nodes (id, lat, lon, tags) and ways (id, [node ids], tags)."""
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as w:
        for nid, lat, lon, tags in nodes:
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags))
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    return path


def _extract(tmp_path: Path, shelter: dict[str, str] | None = None) -> Path:
    lat, lon = KYIV
    square = [  # a refugee site drawn as a closed way: imported at its centroid
        (101, lat + 0.010, lon + 0.010, {}),
        (102, lat + 0.010, lon + 0.012, {}),
        (103, lat + 0.012, lon + 0.012, {}),
        (104, lat + 0.012, lon + 0.010, {}),
    ]
    return _pbf(
        tmp_path / "kyiv.osm.pbf",
        [
            (1, lat, lon, shelter or SHELTER),
            (2, lat + 0.02, lon, WATER),
            (3, lat - 0.02, lon, CAFE),
            *square,
        ],
        [(50, [101, 102, 103, 104, 101], {"amenity": "refugee_site", "name": "Табір"})],
    )


def _pending(db: Session) -> list[ChangeRequest]:
    return list(db.scalars(select(ChangeRequest).where(ChangeRequest.state == ChangeState.pending)))


def _approve_all(db: Session) -> None:
    admin = make_account(db, "admin")
    done: set[Any] = set()
    for cr in _pending(db):
        if cr.id in done or cr.state != ChangeState.pending:
            continue
        group = moderation.group_of(db, change=cr) if cr.group_id else [cr]
        done.update(c.id for c in group)
        moderation.approve(db, change_id=moderation.group_head(group).id, reviewer=admin)
    db.flush()


def test_mapping_hours_and_names_of_an_extract(
    ready: Session, tmp_path: Path, mapping: Any
) -> None:
    db = ready
    report = run_osm_import(db, _extract(tmp_path), mapping=mapping, apply=True)
    assert report.ok, report.as_dict()
    assert report.features == 3 and report.new == 3
    assert dict(report.by_category) == {
        "shelter.air-raid": 1,
        "water.drinking": 1,
        "shelter.collective-centre": 1,
    }
    # never published: everything waits for a moderator, one group per new listing
    assert db.scalar(select(func.count()).select_from(m.Service)) == 0
    pending = _pending(db)
    groups = {cr.group_id for cr in pending}
    assert len(groups) == 3 and None not in groups
    assert {cr.source for cr in pending} == {"import"}

    _approve_all(db)
    shelter = db.get(m.Service, service_id(_feature("node", 1)))
    assert shelter is not None and shelter.name == "Укриття школи 5"
    assert shelter.source_locale == "uk" and shelter.open_during_alert is True
    texts = {
        (t.locale, t.value)
        for t in db.scalars(select(m.Translation).where(m.Translation.entity_id == shelter.id))
    }
    assert {("en", "School 5 shelter"), ("ar", "ملجأ المدرسة 5")} <= texts
    place = db.get(m.Location, location_id(_feature("node", 1)))
    assert place is not None
    assert (place.external_identifier, place.external_identifier_type) == ("node/1", ID_TYPE)
    assert place.wheelchair_accessible is True and place.capacity_maximum == 120
    assert place.shelter_type == m.ShelterType.air_raid_shelter
    assert place.place_id is not None and place.region_id is not None  # Kyiv, by position
    hours = db.scalars(select(m.Schedule).where(m.Schedule.location_id == place.id)).all()
    assert sorted((h.byday, str(h.opens_at)[:5], str(h.closes_at)[:5]) for h in hours) == [
        ("MO,TU,WE,TH,FR", "08:00", "20:00"),
        ("SA", "10:00", "14:00"),
    ]
    # unparseable hours are kept word for word as a note
    water = db.get(m.Location, location_id(_feature("node", 2)))
    assert water is not None and "ask the guard, sometimes" in (water.description or "")
    assert water.has_water is True
    assert not db.scalars(select(m.Schedule).where(m.Schedule.location_id == water.id)).all()
    # the closed way is at its centroid
    site = db.get(m.Location, location_id(_feature("way", 50)))
    assert site is not None
    assert abs(float(site.latitude or 0) - (KYIV[0] + 0.011)) < 1e-4
    assert abs(float(site.longitude or 0) - (KYIV[1] + 0.011)) < 1e-4


def _feature(kind: str, oid: int) -> Feature:
    return Feature(kind, oid, {}, 0.0, 0.0, load_mapping().rules[0])


def test_reimport_proposes_nothing_new_and_a_change_an_update(
    ready: Session, tmp_path: Path, mapping: Any
) -> None:
    db = ready
    run_osm_import(db, _extract(tmp_path), mapping=mapping, apply=True)
    # while the new listings wait, a re-import leaves them alone
    again = run_osm_import(db, _extract(tmp_path), mapping=mapping, apply=True)
    assert again.ok and again.waiting == 3 and again.new == 0
    _approve_all(db)
    before = db.scalar(select(func.count()).select_from(ChangeRequest))
    same = run_osm_import(db, _extract(tmp_path), mapping=mapping, apply=True)
    assert same.ok and same.known == 3 and same.new == 0
    assert same.listings is not None and same.listings.change_requests == 0, same.as_dict()
    assert db.scalar(select(func.count()).select_from(ChangeRequest)) == before
    # the shelter's hours and wheelchair tag change in OSM: one update of what changed
    changed = {**SHELTER, "wheelchair": "no", "capacity": "150"}
    report = run_osm_import(db, _extract(tmp_path, changed), mapping=mapping, apply=True)
    assert report.ok and report.new == 0
    updates = _pending(db)
    assert len(updates) == 1 and updates[0].kind.value == "update"
    assert updates[0].entity_id == location_id(_feature("node", 1))
    assert set(updates[0].payload["fields"]) == {"wheelchair_accessible", "capacity_maximum"}


def test_a_feature_near_a_similar_listing_is_never_a_new_listing(
    ready: Session, tmp_path: Path, mapping: Any
) -> None:
    db = ready
    from tests.exchange.data import make_dataset

    make_dataset(db, tag="osm")
    listed = db.scalars(select(m.Location).where(m.Location.latitude.is_not(None))).first()
    assert listed is not None and listed.name
    lat, lon = float(listed.latitude or 0), float(listed.longitude or 0)
    twin = {"amenity": "social_facility", "social_facility": "shelter", "name": listed.name}
    far = {"amenity": "social_facility", "social_facility": "shelter", "name": listed.name}
    path = _pbf(
        tmp_path / "near.osm.pbf",
        [(7, lat + 0.0003, lon, {**twin, "wheelchair": "yes"}), (8, lat + 0.05, lon, far)],
    )
    report = run_osm_import(db, path, mapping=mapping, apply=True)
    assert report.ok, report.as_dict()
    assert report.new == 1  # only the one 5 km away
    assert [d["osm_id"] for d in report.duplicates] == ["node/7"]
    assert 20 < report.duplicates[0]["metres"] < 50
    creates = {cr.entity_id for cr in _pending(db) if cr.kind.value == "create"}
    assert service_id(_feature("node", 7)) not in creates
    assert service_id(_feature("node", 8)) in creates
    link = [cr for cr in _pending(db) if cr.entity_id == listed.id]
    assert len(link) == 1 and link[0].kind.value == "update"
    assert link[0].payload["fields"]["external_identifier"] == "node/7"
    assert ATTRIBUTION in (link[0].comment or "")
    # a second import proposes it again neither as new nor as another update
    again = run_osm_import(db, path, mapping=mapping, apply=True)
    assert again.updates_proposed == 0 and again.new == 0 and again.waiting == 1


def test_overpass_json(ready: Session, tmp_path: Path, mapping: Any) -> None:
    db = ready
    lat, lon = KYIV
    doc = {
        "version": 0.6,
        "elements": [
            {"type": "node", "id": 11, "lat": lat, "lon": lon, "tags": SHELTER},
            {
                "type": "way",
                "id": 12,
                "center": {"lat": lat + 0.01, "lon": lon},
                "tags": {"emergency": "assembly_point", "name": "Пункт збору"},
            },
            {"type": "node", "id": 13, "lat": lat, "lon": lon + 0.01, "tags": CAFE},
        ],
    }
    path = tmp_path / "overpass.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    report = run_osm_import(db, path, mapping=mapping, apply=False)
    assert report.ok and report.features == 2
    assert dict(report.by_category) == {
        "shelter.air-raid": 1,
        "transport-evacuation.evacuation": 1,
    }
    assert not _pending(db)  # a check writes nothing


def test_hours_parser_subset() -> None:
    h = parse_opening_hours("Mo-Fr 08:00-12:00,13:00-17:00")
    assert [s["byday"] for s in h.schedules] == ["MO,TU,WE,TH,FR", "MO,TU,WE,TH,FR"]
    assert parse_opening_hours("24/7").open_24_7
    assert parse_opening_hours("Mo-Su 00:00-24:00").open_24_7
    night = parse_opening_hours("Fr 22:00-04:00").schedules
    assert night == [
        {"freq": "WEEKLY", "byday": "FR", "opens_at": "22:00", "closes_at": "00:00"},
        {"freq": "WEEKLY", "byday": "SA", "opens_at": "00:00", "closes_at": "04:00"},
    ]
    for kept in ("May-Sep Mo-Fr 08:00-20:00", "sunrise-sunset", "by appointment", "off"):
        assert parse_opening_hours(kept).note == kept


def test_a_broken_mapping_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"rules": [{"match": {"a": "b"}, "category": "nope"}]}))
    with pytest.raises(MappingError, match="not a category"):
        load_mapping(bad, categories={"shelter"})


def test_attribution_on_the_service_page_and_in_exports(
    ready: Session, tmp_path: Path, mapping: Any, client: Any
) -> None:
    from directory.exchange.exporters import export
    from directory.exchange.records import ExportOptions

    db = ready
    run_osm_import(db, _extract(tmp_path), mapping=mapping, apply=True)
    _approve_all(db)
    sid = service_id(_feature("node", 1))
    for locale in ("en", "uk", "ar"):
        page = client.get(f"/{locale}/services/{sid}")
        assert page.status_code == 200
        assert "© OpenStreetMap contributors, ODbL" in page.text
        assert "https://www.openstreetmap.org/copyright" in page.text
    assert "Дані про місце" in client.get(f"/uk/services/{sid}").text
    public = ExportOptions()
    services = json.loads(b"".join(export(db, "hsds-json", public)))
    shelter = next(s for s in services if s["id"] == str(sid))
    assert shelter["x_attribution"] == ATTRIBUTION
    place = shelter["service_at_locations"][0]["location"]
    assert place["x_attribution"] == ATTRIBUTION and place["external_identifier"] == "node/1"
    geo = json.loads(b"".join(export(db, "geojson", public)))
    assert {f["properties"].get("attribution") for f in geo["features"]} == {ATTRIBUTION}
    sheet = b"".join(export(db, "csv", public)).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(sheet)))
    assert {r["attribution"] for r in rows} == {ATTRIBUTION}


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from directory.cli import main
    from directory.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    path = _extract(tmp_path)
    runner = CliRunner()
    checked = runner.invoke(main, ["import", str(path)])  # .osm.pbf: --format osm guessed
    assert checked.exit_code == 0, checked.output
    assert "3 aid features" in checked.output and "Nothing was written" in checked.output
    assert ATTRIBUTION in checked.output
    refused = runner.invoke(main, ["import", "--format", "osm", str(path), "--apply", "--publish"])
    assert refused.exit_code == 2 and "never published" in refused.output
    written = runner.invoke(main, ["import", "--format", "osm", str(path), "--apply", "--json"])
    assert written.exit_code == 0, written.output
    report = json.loads(written.output)
    assert report["applied"] and report["new"] == 3 and report["attribution"] == ATTRIBUTION
    bad = tmp_path / "mapping.json"
    bad.write_text('{"rules": [{"match": {"amenity": "x"}, "category": "no-such"}]}')
    refused = runner.invoke(main, ["import", str(path), "--osm-mapping", str(bad)])
    assert refused.exit_code == 2 and "not a category" in refused.output
    garbage = tmp_path / "garbage.osm.pbf"
    garbage.write_bytes(b"\x00\x01 not osm at all" * 10)
    broken = runner.invoke(main, ["import", str(garbage)])
    assert broken.exit_code == 1 and "refused" in broken.output
    assert "Traceback" not in broken.output


def test_the_same_place_twice_in_a_file_is_one_listing(
    ready: Session, tmp_path: Path, mapping: Any
) -> None:
    lat, lon = KYIV
    shelter = {"amenity": "shelter", "shelter_type": "bomb_shelter", "name": "Укриття ліцею 3"}
    building = {**shelter, "building": "school"}
    path = _pbf(
        tmp_path / "twice.osm.pbf",
        [
            (1, lat, lon, shelter),
            (101, lat + 0.0002, lon, {}),
            (102, lat + 0.0002, lon + 0.0003, {}),
            (103, lat + 0.0004, lon + 0.0003, {}),
        ],
        [(9, [101, 102, 103, 101], building)],
    )
    report = run_osm_import(ready, path, mapping=mapping, apply=True)
    assert report.ok and report.features == 2 and report.new == 1
    assert [(d["osm_id"], d["same_as_feature"]) for d in report.duplicates] == [("way/9", "node/1")]


def test_name_similarity() -> None:
    from directory.exchange.osm.dedupe import similarity

    assert similarity("Укриття №5", "Ukryttia 5") >= 0.7  # scripts compare
    assert similarity("Укриття школи 5", "Укриття школи №5") >= 0.9
    assert similarity("Укриття №620", "Укриття №574") == 0.0  # another number: another place
    assert similarity("School 5 shelter", "School 7 shelter") == 0.0
    assert similarity("", "Укриття") == 0.0
