"""Scenario 7: a partner's spreadsheet with bad rows is reported row by row, and nothing is
written; hostile files are refused with one clear reason."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.exchange import readers, safety
from directory.exchange.csv_simple import HEADER
from directory.exchange.importer import run_import
from directory.listings import models as m
from directory.listings.places import ensure_places
from directory.listings.taxonomy import ensure_taxonomy
from directory.moderation.models import ChangeRequest
from tests.factories import make_account

TEMPLATE = (
    Path(__file__).resolve().parents[2]
    / "directory"
    / "exchange"
    / "templates"
    / "listings-template.csv"
)


def _services(db: Session) -> int:
    return (db.scalar(select(func.count()).select_from(m.Service)) or 0) + (
        db.scalar(select(func.count()).select_from(ChangeRequest)) or 0
    )


def _sheet(
    tmp_path: Path, rows: list[dict[str, str]], *, name: str = "partner.csv", delimiter: str = ","
) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in HEADER})
    path = tmp_path / name
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _good(i: int) -> dict[str, str]:
    return {
        "external_id": f"p-{i:03}",
        "organization_name": "Partner Aid (fictional)",
        "service_name": f"Warming point {i}",
        "categories": "heat-power heat-power.warming",
        "phone": "+380441234567",
        "hours": "MO,TU,WE,TH,FR 08:00-20:00",
        "location_name": f"Point {i}",
        "address": f"{i} Example Street",
        "city": "Kyiv",
        "region": "Kyiv City",
        "country": "UA",
        "latitude": "50.45",
        "longitude": "30.52",
        "capacity_maximum": "30",
        "capacity_available": "5",
        "has_heating": "yes",
    }


BAD_ROWS: list[tuple[dict[str, str], str]] = [
    ({"service_name": ""}, "service_name"),
    ({"organization_name": ""}, "organization_name"),
    ({"categories": "heat-power bogus-category"}, "categories"),
    ({"status": "maybe"}, "status"),
    ({"phone": "call us"}, "phone"),
    ({"latitude": "95.1"}, "latitude"),
    ({"longitude": "east"}, "longitude"),
    ({"capacity_available": "50"}, "capacity_available"),
    ({"capacity_maximum": "-3"}, "capacity_maximum"),
    ({"hours": "weekdays nine to five"}, "hours"),
    ({"website": "javascript:alert(1)"}, "website"),
    ({"service_description": '=HYPERLINK("http://evil.example")'}, "service_description"),
]


def test_partner_sheet_with_twelve_bad_rows_reports_each_and_writes_nothing(
    db: Session, tmp_path: Path
) -> None:
    ensure_taxonomy(db)
    ensure_places(db)
    admin = make_account(db, "admin")
    rows = [_good(i) for i in range(1, 41)]
    bad_lines = {}
    for n, (change, _field) in enumerate(BAD_ROWS):
        index = 3 * n + 1
        rows[index] = {**rows[index], **change}
        bad_lines[index + 2] = _field  # header is line 1
    path = _sheet(tmp_path, rows)
    before = _services(db)
    report = run_import(db, path, fmt="csv", apply=True, publish=True, actor=admin)
    assert not report.ok and not report.applied
    lines = {e.line for e in report.errors}
    assert lines == set(bad_lines), [str(e) for e in report.errors]
    for e in report.errors:
        assert e.file == "partner.csv" and e.reason
    fields = {(e.line, e.field) for e in report.errors}
    for line, name in bad_lines.items():
        assert any(line == ln and name in (f or "") for ln, f in fields), (line, name, fields)
    assert report.counts["service"]["new"] == 28  # the good rows are counted
    assert _services(db) == before  # nothing written, not even change requests


def test_the_template_imports_cleanly(db: Session, tmp_path: Path) -> None:
    ensure_taxonomy(db)
    ensure_places(db)
    admin = make_account(db, "admin")
    report = run_import(db, TEMPLATE, fmt="csv", apply=True, publish=True, actor=admin)
    assert report.ok, [str(e) for e in report.errors]
    assert report.warnings == []
    assert report.counts["service"]["new"] == 2 and report.counts["location"]["new"] == 2
    shelter = db.scalars(
        select(m.Location).where(m.Location.shelter_type == m.ShelterType.air_raid_shelter)
    ).one()
    assert shelter.capacity_available == 40 and shelter.privacy == m.Privacy.approximate
    assert shelter.place_id is not None and shelter.region_id is not None
    again = run_import(db, TEMPLATE, fmt="csv", apply=True, publish=True, actor=admin)
    assert again.change_requests == 0


def test_semicolon_separated_sheet_is_read(db: Session, tmp_path: Path) -> None:
    ensure_taxonomy(db)
    ensure_places(db)
    report = run_import(db, _sheet(tmp_path, [_good(1)], delimiter=";"), fmt="csv")
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts["service"]["new"] == 1


def _refused(db: Session, path: Path, fmt: str) -> str:
    before = _services(db)
    admin = make_account(db, "admin")
    report = run_import(db, path, fmt=fmt, apply=True, publish=True, actor=admin)
    assert report.refused and not report.applied
    assert _services(db) == before
    return report.refused


def test_bad_encoding_is_refused(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("organization_name,service_name\nCaf\u00e9 Kyiv,Soup\n".encode("latin-1"))
    assert "UTF-8" in _refused(db, path, "csv")
    path.write_bytes("organization_name,service_name\n".encode("utf-16"))
    assert "UTF-8" in _refused(db, path, "csv")


def test_wrong_delimiter_is_refused_with_a_hint(db: Session, tmp_path: Path) -> None:
    path = _sheet(tmp_path, [_good(1)], delimiter="|")
    reason = _refused(db, path, "csv")
    assert "organization_name" in reason and "'|'" in reason


def test_huge_field_and_too_many_rows_are_refused(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sheet(
        tmp_path, [{**_good(1), "service_description": "x" * (safety.MAX_FIELD_CHARS + 10)}]
    )
    assert "too long" in _refused(db, path, "csv")
    monkeypatch.setattr(safety, "MAX_ROWS", 3)
    path = _sheet(tmp_path, [_good(i) for i in range(5)])
    assert "too many rows" in _refused(db, path, "csv")


def test_zip_bomb_and_unsafe_zips_are_refused(db: Session, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("services.csv", "id,name\n" + "0" * (8 << 20))
    assert "zip bomb" in _refused(db, bomb, "hsds-csv")
    sneaky = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(sneaky, "w") as zf:
        zf.writestr("../../services.csv", "id,name\n")
    assert "unsafe path" in _refused(db, sneaky, "hsds-csv")
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("id,name\n")
    assert "not a zip" in _refused(db, not_zip, "hsds-csv")


def test_broken_json_is_refused(db: Session, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_text(
        '[\n{"id": "8d7e0a9e-4a5c-4f9e-9d51-0d3f4b9e2c11", "name": "x", "status": "active"},\n'
    )
    assert "cut off" in _refused(db, cut, "hsds-json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert "not valid JSON" in _refused(db, garbage, "hsds-json")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    assert "JSON" in _refused(db, deep, "hsds-json")
    assert readers.IMPORT_FORMATS == ("hsds-json", "hsds-csv", "csv")
