from __future__ import annotations

import csv
import difflib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.exchange.exporters import export
from directory.exchange.importer import run_import
from directory.exchange.records import ExportOptions
from directory.listings import models as m
from directory.moderation.models import ChangeRequest
from tests.exchange.data import make_dataset
from tests.factories import make_account

ADMIN = ExportOptions(include_confidential=True)


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _export(db: Session, fmt: str, options: ExportOptions = ADMIN) -> bytes:
    return b"".join(export(db, fmt, options))


def _counts(db: Session) -> dict[str, int]:
    return {
        name: db.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (
            ("service", m.Service),
            ("location", m.Location),
            ("phone", m.Phone),
            ("cr", ChangeRequest),
        )
    }


@pytest.mark.parametrize("fmt", ["hsds-json", "hsds-csv", "csv"])
def test_reimporting_an_export_changes_nothing(db: Session, tmp_path: Path, fmt: str) -> None:
    make_dataset(db, tag="ri")
    path = _write(
        tmp_path,
        "export" + {"hsds-json": ".json", "hsds-csv": ".zip", "csv": ".csv"}[fmt],
        _export(db, fmt),
    )
    before = _counts(db)
    admin = make_account(db, "admin")
    report = run_import(db, path, fmt=fmt, apply=True, publish=True, actor=admin)
    assert report.ok, [str(e) for e in report.errors]
    assert report.applied
    for entity, c in report.counts.items():
        assert c["new"] == 0 and c["changed"] == 0, (entity, c, report.changed)
    assert report.counts["service"]["unchanged"] >= 3
    assert _counts(db) == before
    assert report.change_requests == 0


LISTING_TABLES = (
    m.Attribute,
    m.Translation,
    m.ScheduleException,
    m.Language,
    m.Schedule,
    m.Phone,
    m.Address,
    m.Accessibility,
    m.RequiredDocument,
    m.ServiceAtLocation,
    m.Contact,
)


def _empty_directory(db: Session) -> None:
    """Remove every listing (the places and categories, reference data, stay)."""
    from sqlalchemy import delete, text

    for model in LISTING_TABLES:
        db.execute(delete(model))
    db.execute(delete(m.ServiceSearch))
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("DELETE FROM service_fts"))
    db.execute(delete(ChangeRequest))
    for model in (m.Service, m.Location, m.Organization):
        db.execute(delete(model))
    db.flush()
    db.expunge_all()


# What the import does not carry, by design: the directory's own bookkeeping — when a record
# was last written (`last_modified`) and when its status last changed (`x_status_since`) are the
# times of the import; demo marks and the external ids of the source are the directory's.
# Everything else (verification dates, languages, documents, accessibility, dated exceptions)
# must come back equal.
NOT_IMPORTED = {
    "last_modified",
    "x_status_since",
    "x_is_demo",
    "x_external_source",
    "x_external_id",
    "updated",  # a capacity's: stamped when a moderator approves (kept by --publish only)
}


def _comparable(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        out = {k: _comparable(v) for k, v in value.items() if k not in NOT_IMPORTED}
        if "attributes" in out:  # attribute rows get new ids; their terms are what matters
            out["attributes"] = sorted(a["taxonomy_term"]["code"] for a in value["attributes"])
        if "location" in out and "service_id" in out:  # a service-at-location link: new id
            out.pop("id", None)
            out["service_areas"] = [a["name"] for a in out.get("service_areas", [])]
        return out
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


@pytest.mark.parametrize("fmt", ["hsds-json", "hsds-csv"])
def test_round_trip_export_import_into_empty_directory_export(
    db: Session, tmp_path: Path, fmt: str
) -> None:
    make_dataset(db, tag="rt")
    admin = make_account(db, "admin")
    first = _export(db, fmt)
    first_json = json.loads(_export(db, "hsds-json"))
    _empty_directory(db)
    assert _counts(db)["service"] == 0
    path = _write(tmp_path, "export" + (".json" if fmt == "hsds-json" else ".zip"), first)
    report = run_import(db, path, fmt=fmt, apply=True, publish=True, actor=admin)
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts["service"]["new"] == 3 and report.counts["location"]["new"] == 3
    # the records that travel beyond HSDS' core came back too (compared in full below)
    assert {
        e: report.counts[e]["new"]
        for e in ("language", "required_document", "accessibility", "schedule_exception")
    } == {"language": 2, "required_document": 1, "accessibility": 1, "schedule_exception": 2}
    assert any(s.get("assured_date") for s in first_json)
    again = json.loads(_export(db, "hsds-json"))
    a, b = _comparable(again), _comparable(first_json)
    diff = list(
        difflib.unified_diff(
            json.dumps(b, indent=1, sort_keys=True).splitlines(),
            json.dumps(a, indent=1, sort_keys=True).splitlines(),
            lineterm="",
            n=8,
        )
    )
    assert not diff, "\n".join(diff)


def test_simple_csv_round_trip(db: Session, tmp_path: Path) -> None:
    make_dataset(db, tag="cs")
    admin = make_account(db, "admin")
    first = _export(db, "csv")
    _empty_directory(db)
    report = run_import(
        db, _write(tmp_path, "sheet.csv", first), fmt="csv", apply=True, publish=True, actor=admin
    )
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts["service"]["new"] == 3

    def rows(data: bytes) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))

    diff = list(
        difflib.unified_diff(
            [str(r) for r in rows(first)],
            [str(r) for r in rows(_export(db, "csv"))],
            lineterm="",
            n=0,
        )
    )
    assert not diff, "\n".join(diff)


def test_reimport_is_a_no_op_and_a_changed_file_updates_only_what_changed(
    db: Session, tmp_path: Path
) -> None:
    ds = make_dataset(db, tag="ch")
    admin = make_account(db, "admin")
    services = json.loads(_export(db, "hsds-json"))
    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["description"] = "Hot food twice a day"
    meals["phones"][0]["number"] = "+380441234599"
    path = _write(tmp_path, "changed.json", json.dumps(services))
    version = ds.exact.version
    dry = run_import(db, path, fmt="hsds-json")
    assert dry.ok and not dry.applied
    assert dry.counts["service"] == {"new": 0, "changed": 1, "unchanged": 2}
    assert (
        dry.counts["phone"]["changed"] == 1 and dry.counts["phone"]["new"] == 0
    )  # same id: an update
    assert {tuple(c["fields"]) for c in dry.changed} >= {("description",)}
    db.refresh(ds.exact)
    assert ds.exact.description != "Hot food twice a day"  # a dry run writes nothing
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.applied and report.ok
    db.refresh(ds.exact)
    assert ds.exact.description == "Hot food twice a day" and ds.exact.version > version
    assert ds.approx.version == 1 and ds.confidential.version == 1
    phones = db.scalars(
        select(m.Phone.number).where(
            m.Phone.service_id == ds.exact.id, m.Phone.archived_at.is_(None)
        )
    ).all()
    # Fraud guard (issue 18): one admin does not publish a changed phone number; another
    # moderator does.
    assert phones == ["+380441234567"] and report.held == 1
    from directory.moderation import service as moderation
    from directory.moderation.models import ChangeRequest

    held = db.scalars(
        select(ChangeRequest).where(
            ChangeRequest.entity_type == "phone", ChangeRequest.state == "pending"
        )
    ).one()
    assert held.sensitive and held.author_id == admin.id
    moderation.approve(db, change_id=held.id, reviewer=make_account(db, "moderator"))
    phones = db.scalars(
        select(m.Phone.number).where(
            m.Phone.service_id == ds.exact.id, m.Phone.archived_at.is_(None)
        )
    ).all()
    assert phones == ["+380441234599"]
    again = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert again.change_requests == 0
    assert all(c["new"] == 0 and c["changed"] == 0 for c in again.counts.values())


def test_without_publish_changes_become_pending_change_requests(
    db: Session, tmp_path: Path
) -> None:
    ds = make_dataset(db, tag="pe")
    services = json.loads(_export(db, "hsds-json"))
    for s in services:
        s["name"] += " (renamed)"
    report = run_import(
        db, _write(tmp_path, "x.json", json.dumps(services)), fmt="hsds-json", apply=True
    )
    assert report.applied and not report.published
    assert report.pending == report.change_requests == 3
    db.refresh(ds.exact)
    assert not ds.exact.name.endswith("(renamed)")  # waits for a moderator
    pending = db.scalars(select(ChangeRequest).where(ChangeRequest.source == "import")).all()
    assert {cr.state.value for cr in pending} == {"pending"} and len(pending) == 3


@pytest.mark.parametrize("fmt", ["hsds-json", "hsds-csv", "csv"])
def test_reimporting_a_public_export_keeps_the_hidden_whereabouts(
    db: Session, tmp_path: Path, fmt: str
) -> None:
    ds = make_dataset(db, tag="pub")
    admin = make_account(db, "admin")
    public = b"".join(export(db, fmt, ExportOptions()))
    path = _write(
        tmp_path, "public" + {"hsds-json": ".json", "hsds-csv": ".zip", "csv": ".csv"}[fmt], public
    )
    report = run_import(db, path, fmt=fmt, apply=True, publish=True, actor=admin)
    assert report.ok, [str(e) for e in report.errors]
    assert report.change_requests == 0, report.changed
    assert any("public export" in w.reason for w in report.warnings)
    db.refresh(ds.secret_loc)
    assert ds.secret_loc.latitude is not None and ds.secret_loc.name
    assert db.scalars(
        select(m.Phone).where(
            m.Phone.location_id == ds.secret_loc.id, m.Phone.archived_at.is_(None)
        )
    ).all()


@pytest.mark.parametrize("fmt", ["hsds-json", "csv"])
def test_new_listings_without_publish_become_one_group_each_that_a_moderator_approves(
    db: Session, tmp_path: Path, fmt: str
) -> None:
    from directory.moderation import service as moderation

    make_dataset(db, tag="gr" + fmt[:2])
    first = _export(db, fmt)
    expected = json.loads(_export(db, "hsds-json"))
    _empty_directory(db)
    path = _write(tmp_path, "new" + (".json" if fmt == "hsds-json" else ".csv"), first)
    report = run_import(db, path, fmt=fmt, apply=True)
    assert report.ok and report.applied and not report.published, [str(e) for e in report.errors]
    assert report.pending == report.change_requests > 10
    assert _counts(db)["service"] == 0  # nothing published before a moderator looks
    crs = db.scalars(select(ChangeRequest).where(ChangeRequest.source == "import")).all()
    assert {cr.state.value for cr in crs} == {"pending"} and {cr.kind.value for cr in crs} == {
        "create"
    }
    # one organisation with three services: their new records form one listing group
    assert len({cr.group_id for cr in crs}) == 1 and None not in {cr.group_id for cr in crs}
    assert report.groups == 1 and report.as_dict()["groups"] == 1  # the report counts groups
    moderator = make_account(db, "moderator")
    view = moderation.queue(db, viewer=moderator)
    assert view.total == 1 and len(view.groups[crs[0].group_id]) == len(crs)
    moderation.approve(db, change_id=view.items[0].id, reviewer=moderator)
    assert {cr.state.value for cr in crs} == {"approved"}
    if fmt == "hsds-json":  # the approved listing is the file's, in full
        a, b = _comparable(json.loads(_export(db, "hsds-json"))), _comparable(expected)
        from tests.exchange.test_roundtrip import diff

        assert a == b, list(diff(b, a))
    else:
        assert _counts(db)["service"] == 3
    again = run_import(db, path, fmt=fmt, apply=True)
    assert again.change_requests == 0, again.changed


def test_rejecting_an_imported_new_listing_publishes_nothing(db: Session, tmp_path: Path) -> None:
    from directory.moderation import service as moderation

    make_dataset(db, tag="grr")
    first = _export(db, "hsds-json")
    _empty_directory(db)
    report = run_import(db, _write(tmp_path, "x.json", first), fmt="hsds-json", apply=True)
    assert report.ok and report.pending > 0
    cr = db.scalars(select(ChangeRequest).where(ChangeRequest.source == "import")).first()
    assert cr is not None
    moderation.reject(
        db, change_id=cr.id, reviewer=make_account(db, "moderator"), reason="Unknown organisation"
    )
    states = set(db.scalars(select(ChangeRequest.state).where(ChangeRequest.source == "import")))
    assert {s.value for s in states} == {"rejected"} and _counts(db)["service"] == 0


def test_languages_documents_accessibility_and_exceptions_are_updated_and_removed_like_phones(
    db: Session, tmp_path: Path
) -> None:
    ds = make_dataset(db, tag="kids")
    admin = make_account(db, "admin")
    services = json.loads(_export(db, "hsds-json"))
    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["languages"] = [
        lang for lang in meals["languages"] if lang["code"] == "uk"
    ]  # English dropped
    meals["required_documents"][0]["document"] = "Any ID"
    loc = meals["service_at_locations"][0]["location"]
    loc["accessibility"][0]["details"] = "Ramp at the back"
    meals["x_schedule_exceptions"][0]["reason"] = "Christmas"
    path = _write(tmp_path, "kids.json", json.dumps(services))
    dry = run_import(db, path, fmt="hsds-json")
    assert dry.ok, [str(e) for e in dry.errors]
    assert dry.counts["language"] == {"new": 0, "changed": 0, "unchanged": 1, "removed": 1}
    for entity in ("required_document", "accessibility", "schedule_exception"):
        assert dry.counts[entity]["changed"] == 1, (entity, dry.counts[entity])
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.ok and report.applied, [str(e) for e in report.errors]

    def live(model, col, value):
        return db.scalars(select(model).where(col == value, model.archived_at.is_(None))).all()

    assert [lang.code for lang in live(m.Language, m.Language.service_id, ds.exact.id)] == ["uk"]
    assert [
        d.document for d in live(m.RequiredDocument, m.RequiredDocument.service_id, ds.exact.id)
    ] == ["Any ID"]
    assert [
        a.details for a in live(m.Accessibility, m.Accessibility.location_id, ds.exact_loc.id)
    ] == ["Ramp at the back"]
    assert [
        e.reason for e in live(m.ScheduleException, m.ScheduleException.service_id, ds.exact.id)
    ] == ["Christmas"]
    again = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert again.change_requests == 0


def test_a_file_never_moves_a_verification_back(db: Session, tmp_path: Path) -> None:
    ds = make_dataset(db, tag="ver")
    admin = make_account(db, "admin")
    services = json.loads(_export(db, "hsds-json"))
    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["x_assured_at"] = "2026-01-01T00:00:00Z"  # older than the directory's 2026-11-20
    path = _write(tmp_path, "old.json", json.dumps(services))
    assert run_import(db, path, fmt="hsds-json").counts["service"]["changed"] == 0
    meals["x_assured_at"] = "2026-11-23T08:00:00Z"  # newer: taken
    path = _write(tmp_path, "new.json", json.dumps(services))
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.ok and report.counts["service"]["changed"] == 1
    db.refresh(ds.exact)
    assert (
        ds.exact.assured_date is not None
        and ds.exact.assured_date.replace(tzinfo=None).isoformat() == "2026-11-23T08:00:00"
    )


def test_one_new_record_of_an_existing_listing_is_a_change_of_its_own(
    db: Session, tmp_path: Path
) -> None:
    ds = make_dataset(db, tag="one")
    services = json.loads(_export(db, "hsds-json"))
    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["phones"].append({"number": "+380441234500", "type": "voice"})
    report = run_import(
        db, _write(tmp_path, "one.json", json.dumps(services)), fmt="hsds-json", apply=True
    )
    assert report.ok and report.pending == 1, [str(e) for e in report.errors]
    [cr] = db.scalars(select(ChangeRequest).where(ChangeRequest.source == "import")).all()
    assert cr.entity_type == "phone" and cr.group_id is None and cr.sensitive  # fraud guard


def test_a_foreign_language_without_a_code_is_a_warning_not_an_error(
    db: Session, tmp_path: Path
) -> None:
    ds = make_dataset(db, tag="lng")
    services = json.loads(_export(db, "hsds-json"))
    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["languages"].append({"name": "Sign language"})
    report = run_import(db, _write(tmp_path, "lng.json", json.dumps(services)), fmt="hsds-json")
    assert report.ok and report.counts["language"]["new"] == 0
    assert any("Sign language" in w.reason for w in report.warnings)
