from __future__ import annotations

import csv
import io
import json
import zipfile

import hxl
import pytest
from sqlalchemy.orm import Session

from directory.exchange.exporters import export
from directory.exchange.records import ExportOptions, iter_services
from tests.exchange import hsds
from tests.exchange.data import APPROX_LAT, SECRET_LAT, SECRET_LON, SECRET_STREET, make_dataset

PUBLIC = ExportOptions()
ADMIN = ExportOptions(include_confidential=True)


def _text(db: Session, fmt: str, options: ExportOptions = PUBLIC) -> str:
    return b"".join(export(db, fmt, options)).decode("utf-8")


def _services(db: Session, options: ExportOptions = PUBLIC) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(_text(db, "hsds-json", options))}


@pytest.mark.parametrize("options", [PUBLIC, ADMIN], ids=["public", "admin"])
def test_every_exported_service_is_valid_hsds(db: Session, options: ExportOptions) -> None:
    ds = make_dataset(db)
    services = json.loads(_text(db, "hsds-json", options))
    assert {s["id"] for s in services} >= {
        str(ds.exact.id),
        str(ds.approx.id),
        str(ds.confidential.id),
    }
    hsds.require_schema()
    hsds.require_schema("3.1")
    for service in services:
        assert hsds.errors(service, version="3.1") == [], service["name"]
        assert hsds.errors(service) == [], service["name"]  # HSDS 3.0.1 readers too


def test_hsds_json_carries_the_nested_records_and_crisis_extensions(db: Session) -> None:
    ds = make_dataset(db, tag="n1")
    s = _services(db)
    meals = s["Warm meals n1"]
    assert meals["organization"]["name"] == "Fictional Relief n1"
    assert [p["number"] for p in meals["phones"]] == ["+380441234567"]
    assert {(x["byday"], x["opens_at"]) for x in meals["schedules"]} == {
        ("MO,TU,WE,TH,FR", "09:00:00"),
        ("SA", "10:00:00"),
    }
    assert {x["code"] for x in meals["languages"]} == {"uk", "en"}
    assert meals["attributes"][0]["taxonomy_term"]["code"] == "food"
    assert meals["x_translations"] == {"name": {"uk": "Гаряче харчування n1"}}
    assert meals["x_free_of_charge"] is True
    assert meals["assured_date"] == "2026-11-20"
    loc = meals["service_at_locations"][0]["location"]
    assert loc["addresses"][0]["address_1"] == "1 Main Street"
    assert loc["latitude"] == 50.401234
    assert loc["x_region"]["name"] == "Test Oblast n1"
    assert loc["x_has_heating"] is True
    shelter = s["Basement shelter n1"]
    assert shelter["status"] == "active" and shelter["x_status"] == "full"  # HSDS has no "full"
    assert shelter["x_status_reason"] == "No free places tonight"
    location = shelter["service_at_locations"][0]["location"]
    [places] = shelter["capacities"]  # HSDS 3.1 service_capacity
    assert (places["available"], places["maximum"], places["unit"]["identifier"]) == (
        0,
        120,
        "place",
    )
    assert places["x_location_id"] == location["id"] and places["updated"]
    assert "x_capacity_available" not in location
    area = shelter["service_at_locations"][0]["service_areas"][0]
    assert area["name"] == "Test Oblast n1"
    assert meals["attributes"][0]["label"] == meals["attributes"][0]["taxonomy_term"]["name"]
    assert meals["x_export_scope"] == "public"
    assert ds.exact.id


def test_public_hsds_json_redacts_confidential_and_approximate_places(db: Session) -> None:
    make_dataset(db, tag="r1")
    raw = _text(db, "hsds-json")
    assert SECRET_STREET not in raw and "Blue door" not in raw and "+380442222222" not in raw
    assert str(SECRET_LAT)[:5] not in raw and str(SECRET_LON)[:5] not in raw
    assert "12 School Street" not in raw and "Tram 5" not in raw
    s = _services(db)
    secret = s["Safe house r1"]["service_at_locations"][0]["location"]
    assert "latitude" not in secret and secret["addresses"] == [] and "name" not in secret
    assert secret["x_region"]["name"] == "Test Oblast r1"  # region stays
    assert [p["number"] for p in secret["phones"]] == ["+380800123456"]  # hotline stays
    approx = s["Basement shelter r1"]["service_at_locations"][0]["location"]
    assert approx["latitude"] == round(float(APPROX_LAT), 2)
    assert approx["addresses"][0]["address_1"] == "" and approx["addresses"][0]["city"].startswith(
        "Testopil"
    )


def test_admin_export_includes_confidential_places_and_says_so(db: Session) -> None:
    make_dataset(db, tag="a1")
    raw = _text(db, "hsds-json", ADMIN)
    assert SECRET_STREET in raw
    s = _services(db, ADMIN)
    assert s["Safe house a1"]["x_export_scope"] == "admin-confidential"
    assert s["Safe house a1"]["service_at_locations"][0]["location"]["latitude"] == float(
        SECRET_LAT
    )
    with zipfile.ZipFile(io.BytesIO(b"".join(export(db, "hsds-csv", ADMIN)))) as zf:
        assert "confidential" in json.loads(zf.read("datapackage.json"))["description"]


def test_hsds_csv_zip_has_one_table_per_file_and_a_datapackage(db: Session) -> None:
    make_dataset(db, tag="z1")
    with zipfile.ZipFile(io.BytesIO(b"".join(export(db, "hsds-csv", PUBLIC)))) as zf:
        names = set(zf.namelist())
        package = json.loads(zf.read("datapackage.json"))
        assert {r["path"] for r in package["resources"]} | {"datapackage.json"} == names
        services = list(csv.DictReader(io.StringIO(zf.read("services.csv").decode())))
        locations = list(csv.DictReader(io.StringIO(zf.read("locations.csv").decode())))
        raw = b"".join(zf.read(n) for n in names).decode()
    assert {"Warm meals z1", "Basement shelter z1", "Safe house z1"} <= {
        r["name"] for r in services
    }
    fields = [f["name"] for f in package["resources"][1]["schema"]["fields"]]
    assert list(services[0]) == fields
    assert SECRET_STREET not in raw and "49.84" not in raw
    assert any(r["latitude"] == "50.46" for r in locations)


def test_hxl_export_is_read_by_libhxl_with_the_expected_hashtags(db: Session, tmp_path) -> None:
    make_dataset(db, tag="h1")
    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(export(db, "hxl", PUBLIC)))
    data = hxl.data(str(path), hxl.InputOptions(allow_local=True)).cache()
    tags = {c.tag for c in data.columns}
    for tag in (
        "#org",
        "#service",
        "#sector",
        "#loc",
        "#adm1",
        "#adm2",
        "#geo",
        "#contact",
        "#status",
        "#capacity",
        "#date",
    ):
        assert tag in tags, tag
    assert {c.display_tag for c in data.columns} >= {
        "#geo+lat",
        "#geo+lon",
        "#contact+phone",
        "#date+verified",
    }
    rows = {row.get("#service+name"): row for row in data}
    assert rows["Basement shelter h1"].get("#status") == "full"
    assert rows["Basement shelter h1"].get("#capacity+total") == "120"
    assert rows["Warm meals h1"].get("#adm1+name") == "Test Oblast h1"
    assert rows["Warm meals h1"].get("#date+verified") == "2026-11-20"
    assert rows["Safe house h1"].get("#geo+lat") in ("", None)
    assert SECRET_STREET not in path.read_text()


def test_geojson_is_rfc7946_lon_lat_without_confidential_places(db: Session) -> None:
    ds = make_dataset(db, tag="g1")
    doc = json.loads(_text(db, "geojson"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    feats = {f["id"]: f for f in doc["features"]}
    assert str(ds.secret_loc.id) not in feats
    exact = feats[str(ds.exact_loc.id)]
    assert exact["type"] == "Feature" and exact["geometry"]["type"] == "Point"
    lon, lat = exact["geometry"]["coordinates"]
    assert (lon, lat) == (30.612345, 50.401234)  # [longitude, latitude]
    assert -180 <= lon <= 180 and -90 <= lat <= 90
    assert exact["properties"]["services"][0]["name"] == "Warm meals g1"
    approx = feats[str(ds.approx_loc.id)]
    assert (
        approx["geometry"]["coordinates"] == [30.52, 50.46] and approx["properties"]["approximate"]
    )
    for f in doc["features"]:
        assert set(f) <= {"type", "id", "geometry", "properties"}
        assert len(f["geometry"]["coordinates"]) == 2
    admin = json.loads(_text(db, "geojson", ADMIN))
    assert str(ds.secret_loc.id) in {f["id"] for f in admin["features"]}
    assert admin["x_export_scope"] == "admin-confidential"


def test_csv_export_has_bom_header_and_neutralised_formulas(db: Session) -> None:
    make_dataset(db, tag="c1")
    data = b"".join(export(db, "csv", PUBLIC))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    meals = next(r for r in rows if r["service_name"] == "Warm meals c1")
    assert (
        meals["service_description"] == "Hot food =SUM(A1) every day"
    )  # not at the start: harmless
    assert meals["phone"] == "+380441234567"  # a phone number is no formula
    assert meals["hours"] == "MO,TU,WE,TH,FR 09:00-18:00; SA 10:00-14:00"
    assert meals["categories"] == "food"
    safe = next(r for r in rows if r["service_name"] == "Safe house c1")
    assert safe["address"] == "" and safe["latitude"] == "" and safe["location_name"] == ""


def test_formula_cells_are_neutralised(db: Session) -> None:
    ds = make_dataset(db, tag="f1")
    ds.exact.name = '=HYPERLINK("http://evil.example","x")'
    ds.approx.name = "@SUM(1+1)"
    ds.confidential.name = "-2+3+cmd|' /C calc'!A0"
    db.flush()
    for fmt in ("csv", "hxl"):
        names = {c for r in csv.reader(io.StringIO(_text(db, fmt).lstrip("\ufeff"))) for c in r}
        assert '\'=HYPERLINK("http://evil.example","x")' in names
        assert "'@SUM(1+1)" in names and "'-2+3+cmd|' /C calc'!A0" in names


def test_export_streams_in_batches(db: Session) -> None:
    make_dataset(db, tag="b1")
    make_dataset(db, tag="b2")
    ids = [s["id"] for s in iter_services(db, ExportOptions(batch_size=2))]
    assert len(ids) == len(set(ids)) >= 6 and ids == sorted(ids)
