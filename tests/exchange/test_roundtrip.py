"""A round trip that loses nothing (issue 15): the demo directory exported as an admin
(`export --format hsds-json --include-confidential`), imported with `--apply --publish` into an
empty directory and exported again gives the same records, field by field, except
`last_modified` and the demo mark."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from directory.demo.loader import load_demo
from directory.exchange.exporters import export
from directory.exchange.importer import run_import
from directory.exchange.records import ExportOptions
from tests.exchange.test_bulk_import import _empty, _export
from tests.factories import make_account
from tests.hsds_api.validate import hsds_errors, profile_errors
from tests.scratch import scratch_database  # noqa: F401 (a fixture)

#: What may differ: when the copy was written, and that the original is the demo.
VOLATILE = {"last_modified", "x_is_demo"}


def diff(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """Every difference between two exports, as `path: before → after` lines; lists of records
    are matched by id."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in VOLATILE:
                continue
            if key not in b:
                yield f"{path}.{key}: {a[key]!r} → missing"
            elif key not in a:
                yield f"{path}.{key}: missing → {b[key]!r}"
            else:
                yield from diff(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if all(isinstance(x, dict) and "id" in x for x in [*a, *b]):
            ids_a, ids_b = {identity(x): x for x in a}, {identity(x): x for x in b}
            for i in sorted(set(ids_a) | set(ids_b)):
                if i not in ids_b:
                    yield f"{path}[id]: record {i} → missing"
                elif i not in ids_a:
                    yield f"{path}[id]: missing → record {i}"
                else:
                    yield from diff(ids_a[i], ids_b[i], f"{path}[]")
        elif a != b:
            yield f"{path}: {a!r} → {b!r}"
    elif a != b:
        yield f"{path}: {a!r} → {b!r}"


def identity(record: dict[str, Any]) -> Any:
    """A record's identity: its id; a service-at-location's place and an attribute's term too,
    so that a changed id is one difference, not the loss of everything under it."""
    if isinstance(record.get("location"), dict):
        return "location " + str(record["location"].get("id"))
    if isinstance(record.get("taxonomy_term"), dict):
        return "term " + str(record["taxonomy_term"].get("id"))
    return record["id"]


def kinds(lines: list[str]) -> Counter[str]:
    return Counter(line.split(":", 1)[0] for line in lines)


@pytest.mark.parametrize("fmt", ["hsds-json", "hsds-csv"])
def test_demo_directory_round_trip_loses_nothing(db: Session, tmp_path: Path, fmt: str) -> None:
    load_demo(db)
    admin = make_account(db, "admin")
    db.flush()
    before = _export(db)
    assert len(before) > 100
    path = tmp_path / ("demo.json" if fmt == "hsds-json" else "demo.zip")
    path.write_bytes(b"".join(export(db, fmt, ExportOptions(include_confidential=True))))
    _empty(db)
    report = run_import(db, path, fmt=fmt, apply=True, publish=True, actor=admin)
    assert report.ok and report.published, [str(e) for e in report.errors[:5]]
    after = _export(db)
    lines = list(diff(before, after))
    for service in after:  # every record of the copy: the published profile, strictly
        assert profile_errors(service, "service.json") == [], service["id"]
        assert hsds_errors(service, "service.json") == [], service["id"]
    assert not lines, f"{len(lines)} differences: {kinds(lines).most_common()}\n" + "\n".join(
        lines[:20]
    )


def test_hsds_3_0_files_still_import_capacity_from_the_place(db: Session, tmp_path: Path) -> None:
    """An HSDS 3.0 file (ours before 3.1) states a place's capacity in `x_capacity_*`."""
    from directory.listings import models as m
    from tests.exchange.data import make_dataset

    make_dataset(db, tag="v30")
    admin = make_account(db, "admin")
    db.flush()
    services = _export(db)
    shelter = next(s for s in services if s["name"] == "Basement shelter v30")
    [held] = shelter.pop("capacities")
    location = shelter["service_at_locations"][0]["location"]
    location |= {"x_capacity_maximum": 80, "x_capacity_available": 7}
    location["x_capacity_updated"] = held["updated"]
    for s in services:
        s.pop("capacities", None)
    path = tmp_path / "v30.json"
    path.write_text(json.dumps(services), encoding="utf-8")
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.ok, [str(e) for e in report.errors[:5]]
    db.expire_all()
    place = db.get(m.Location, uuid.UUID(location["id"]))
    assert place is not None and (place.capacity_maximum, place.capacity_available) == (80, 7)


def test_demo_round_trip_through_the_commands(
    scratch_database: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same with the commands a partner runs: `export --format hsds-json
    --include-confidential` of the demo directory, `import --apply --publish` into an empty one
    (the check without the write lock, then the publish: `importer.publish_import`), export."""
    from click.testing import CliRunner

    from directory.cli import main
    from directory.db import make_engine, make_sessionmaker, session_scope

    monkeypatch.setenv("DIRECTORY_DATABASE_URL", scratch_database)
    engine = make_engine(scratch_database)
    with session_scope(make_sessionmaker(engine)) as session:
        load_demo(session)
        make_account(session, "admin", email="copy-admin@example.org")
    runner = CliRunner()
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    args = ["export", "--format", "hsds-json", "--include-confidential", "-o"]
    assert runner.invoke(main, [*args, str(first)]).exit_code == 0
    with session_scope(make_sessionmaker(engine)) as session:
        _empty(session)
    engine.dispose()
    written = runner.invoke(
        main, ["import", str(first), "--apply", "--publish", "--as", "copy-admin@example.org"]
    )
    assert written.exit_code == 0, written.output
    assert runner.invoke(main, [*args, str(second)]).exit_code == 0
    before = json.loads(first.read_text(encoding="utf-8"))
    after = json.loads(second.read_text(encoding="utf-8"))
    assert len(after) == len(before) > 100
    lines = list(diff(before, after))
    assert not lines, f"{len(lines)} differences: {kinds(lines).most_common()}\n" + "\n".join(
        lines[:20]
    )


def test_an_alternative_service_the_file_does_not_carry_is_a_warning(
    db: Session, tmp_path: Path
) -> None:
    from directory.listings import models as m
    from tests.exchange.data import make_dataset

    make_dataset(db, tag="alt")
    admin = make_account(db, "admin")
    db.flush()
    services = _export(db)
    ghost = str(uuid.uuid4())
    services[0]["x_alternative_service_id"] = ghost
    services[1]["x_alternative_service_id"] = services[2]["id"]
    path = tmp_path / "alt.json"
    path.write_text(json.dumps(services), encoding="utf-8")
    _empty(db)
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.ok and report.published, [str(e) for e in report.errors[:5]]
    assert any(ghost in w.reason for w in report.warnings)
    db.expire_all()
    first = db.get(m.Service, uuid.UUID(services[0]["id"]))
    second = db.get(m.Service, uuid.UUID(services[1]["id"]))
    assert first is not None and first.alternative_service_id is None
    assert second is not None and str(second.alternative_service_id) == services[2]["id"]


def test_demo_directory_imports_for_moderators_too(db: Session, tmp_path: Path) -> None:
    """Without --publish the alternatives name services that are only proposed: left out, with a
    warning each (a proposal may only name a published service)."""
    load_demo(db)
    db.flush()
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(_export(db)), encoding="utf-8")
    _empty(db)
    report = run_import(db, path, fmt="hsds-json", apply=True)
    assert report.ok and report.applied, [str(e) for e in report.errors[:5]]
    assert sum("not published yet" in w.reason for w in report.warnings) >= 1
