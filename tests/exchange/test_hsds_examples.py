"""The official Open Referral HSDS 3.0.1 examples as import test data
(vendored in tests/data/hsds-schema)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlalchemy.orm import Session

from directory.exchange.exporters import export
from directory.exchange.importer import run_import
from directory.exchange.records import ExportOptions
from tests.exchange import hsds
from tests.factories import make_account


def test_official_full_service_example_is_reported_then_imported_and_exported_valid(
    db: Session, tmp_path: Path
) -> None:
    examples = hsds.require_schema() / "examples"
    service = json.loads((examples / "service_full.json").read_text())
    path = tmp_path / "service_full.json"
    path.write_text(json.dumps(service))
    report = run_import(db, path, fmt="hsds-json")
    # The official example places its location at latitude 100, longitude 101: impossible.
    assert [(e.path, e.field) for e in report.errors] == [
        ("$.service_at_locations[0].location", "latitude")
    ]
    assert "at most 90" in report.errors[0].reason

    loc = service["service_at_locations"][0]["location"]
    loc["latitude"], loc["longitude"] = 51.5072, -0.1276
    path.write_text(json.dumps(service))
    admin = make_account(db, "admin")
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.ok and report.applied, [str(e) for e in report.errors]
    assert report.counts["service"]["new"] == 1 and report.counts["location"]["new"] == 1
    assert any(
        w.field == "taxonomy_term" for w in report.warnings
    )  # its taxonomy is not ours: said so

    exported = [
        s
        for s in json.loads(b"".join(export(db, "hsds-json", ExportOptions())))
        if s["id"] == service["id"]
    ]
    assert len(exported) == 1
    assert hsds.errors(exported[0]) == []
    assert exported[0]["name"] == service["name"]
    assert exported[0]["organization"]["id"] == service["organization"]["id"]
    assert exported[0]["service_at_locations"][0]["location"]["latitude"] == 51.5072
    assert (
        run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin).change_requests
        == 0
    )


def test_official_tabular_example_is_read_from_a_zip(db: Session, tmp_path: Path) -> None:
    tables = hsds.require_schema() / "examples" / "csv"
    bundle = tmp_path / "hsds.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for csv_file in tables.glob("*.csv"):
            zf.write(csv_file, csv_file.name)
    report = run_import(db, bundle, fmt="hsds-csv")
    assert report.services_read == 1
    assert [(e.file, e.line, e.field) for e in report.errors] == [("locations.csv", 2, "latitude")]


def test_official_paginated_list_example_is_read(db: Session, tmp_path: Path) -> None:
    path = hsds.require_schema() / "examples" / "service_list.json"
    report = run_import(db, path, fmt="hsds-json")
    assert report.ok, [str(e) for e in report.errors]
    assert report.services_read == len(json.loads(path.read_text())["contents"])
    assert report.counts["service"]["new"] == report.services_read
