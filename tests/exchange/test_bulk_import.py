"""`import --apply --publish` goes through the set-based write path (moderation.bulk): it must
publish the same data, audit and search documents as the per-record path (propose → approve),
all or nothing, and a re-import must be a no-op."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from directory.exchange import importer
from directory.exchange.exporters import export
from directory.exchange.importer import run_import
from directory.exchange.records import ExportOptions
from directory.listings import models as m
from directory.listings.queries import SearchParams, search_services
from directory.moderation.models import AuditEntry, ChangeRequest, ChangeState
from tests.exchange.data import make_dataset
from tests.exchange.per_record import publish_per_record
from tests.factories import make_account

ADMIN = ExportOptions(include_confidential=True)
LISTINGS = (
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
# The directory's own bookkeeping: times of the import, ids of link rows made by it.
# (`updated` of a capacity: the per-record path stamps its approval; the bulk one keeps the file's)
VOLATILE = {
    "last_modified", "x_status_since", "x_is_demo", "x_external_source", "x_external_id", "updated",
}  # fmt: skip


def _export(db: Session) -> list[dict[str, Any]]:
    return json.loads(b"".join(export(db, "hsds-json", ADMIN)))


def _empty(db: Session) -> None:
    for model in LISTINGS:
        db.execute(delete(model))
    db.execute(delete(m.ServiceSearch))
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("DELETE FROM service_fts"))
    db.execute(delete(AuditEntry))
    db.execute(delete(ChangeRequest))
    for model in (m.Service, m.Location, m.Organization):
        db.execute(delete(model))
    db.flush()
    db.expunge_all()


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _comparable(v) for k, v in value.items() if k not in VOLATILE}
        if "attributes" in out:
            out["attributes"] = sorted(a["taxonomy_term"]["code"] for a in value["attributes"])
        if "location" in out and "service_id" in out:
            out.pop("id", None)
            # the per-record path does not keep the file's link ids: its areas name new links
            out["service_areas"] = [a["name"] for a in out.get("service_areas", [])]
        return out
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _audit(db: Session) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    out = {}
    for a in db.scalars(select(AuditEntry)):
        snap = dict(a.snapshot or {})
        out[(a.entity_type, str(a.entity_id), a.action)] = (a.changes, snap)
    return out


def _search(db: Session) -> dict[str, tuple[str, str]]:
    return {
        str(r.service_id): (r.document, r.facets)
        for r in db.execute(
            select(m.ServiceSearch.service_id, m.ServiceSearch.document, m.ServiceSearch.facets)
        )
    }


def _count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _found(db: Session, q: str) -> list[str]:
    results = search_services(db, SearchParams(q=q), stale_after_days=30)
    return [card.name.value for card in results.items]


def test_bulk_publish_writes_what_the_per_record_path_writes(db: Session, tmp_path: Path) -> None:
    make_dataset(db, tag="bk")
    admin = make_account(db, "admin")
    path = tmp_path / "listings.json"
    path.write_text(json.dumps(_export(db)))

    _empty(db)
    slow = publish_per_record(db, path, fmt="hsds-json", actor=admin)
    assert slow.ok and slow.published, [str(e) for e in slow.errors]
    per_record = (_comparable(_export(db)), _audit(db), _search(db), _found(db, "warm meals"))
    per_record_crs = _count(db, ChangeRequest)

    _empty(db)
    fast = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert fast.ok and fast.applied and fast.published, [str(e) for e in fast.errors]
    assert fast.counts == slow.counts
    exported, audit, search, found = (
        _comparable(_export(db)),
        _audit(db),
        _search(db),
        _found(db, "warm meals"),
    )

    from tests.exchange.test_roundtrip import diff

    assert exported == per_record[0], list(diff(per_record[0], exported))  # field by field
    assert search == per_record[2] and found == per_record[3] == ["Warm meals bk"]
    # the same audit entries: one per record, with the same changes and snapshots
    assert set(audit) == set(per_record[1])
    for key, (changes, snap) in per_record[1].items():
        assert audit[key][0] == changes, key
        assert audit[key][1] == snap, key
    # one approved change request per service bundle (the per-record path: one per record)
    crs = list(db.scalars(select(ChangeRequest)))
    assert len(crs) == fast.change_requests == 3 < per_record_crs
    services = {str(s) for s in db.scalars(select(m.Service.id))}
    for cr in crs:
        assert (
            cr.state == ChangeState.approved and cr.reviewer_id == admin.id and cr.author_id is None
        )
        assert (
            cr.source == "import" and cr.entity_type == "service" and str(cr.entity_id) in services
        )
        assert cr.comment == f"import of listings.json by {admin.email}"
    # every record written is traceable to its bundle's change request, approved by the admin
    by_cr = {cr.id: cr for cr in crs}
    for entry in db.scalars(select(AuditEntry)):
        assert entry.approver_id == admin.id and entry.change_request_id in by_cr
        cr = by_cr[entry.change_request_id]
        assert [entry.entity_type, str(entry.entity_id), entry.action] in cr.payload["records"]


def test_bulk_publish_then_reimport_is_a_no_op_and_a_change_is_audited(
    db: Session, tmp_path: Path
) -> None:
    ds = make_dataset(db, tag="bn")
    admin = make_account(db, "admin")
    services = _export(db)
    path = tmp_path / "listings.json"
    path.write_text(json.dumps(services))
    _empty(db)
    first = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert first.ok and first.change_requests == 3
    audits, crs = _count(db, AuditEntry), _count(db, ChangeRequest)
    again = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert again.ok and again.applied and again.change_requests == 0
    assert all(c["new"] == 0 and c["changed"] == 0 for c in again.counts.values()), again.counts
    assert (_count(db, AuditEntry), _count(db, ChangeRequest)) == (audits, crs)
    assert _found(db, "warm meals") == ["Warm meals bn"]

    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["name"] = "Hot soup bn"
    meals["phones"][0]["number"] = "+380441234599"
    path.write_text(json.dumps(services))
    changed = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert changed.ok and changed.change_requests == 1, [str(e) for e in changed.errors]
    svc = db.scalars(
        select(m.Service)
        .where(m.Service.id == ds.exact.id)
        .execution_options(populate_existing=True)
    ).one()
    assert svc.name == "Hot soup bn" and svc.version == 2
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == ds.exact.id, AuditEntry.action == "update")
    ).one()
    assert entry.changes["name"] == ["Warm meals bn", "Hot soup bn"] and entry.entity_version == 2
    assert entry.snapshot["name"] == "Hot soup bn" and entry.snapshot["version"] == 2
    # Fraud guard (issue 18): the changed phone number of an existing listing is not published by
    # the one admin: it waits, authored by them, for a second moderator.
    assert changed.held == 1
    held = db.scalars(
        select(ChangeRequest).where(
            ChangeRequest.entity_type == "phone", ChangeRequest.state == "pending"
        )
    ).one()
    assert held.sensitive and held.author_id == admin.id
    assert held.payload["fields"]["number"] == "+380441234599"
    assert (
        db.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "phone", AuditEntry.action == "update"
            )
        ).first()
        is None
    )
    from directory.moderation import service as moderation

    moderation.approve(db, change_id=held.id, reviewer=make_account(db, "moderator"))
    phone = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "phone", AuditEntry.action == "update")
    ).one()
    assert phone.changes["number"][1] == "+380441234599"
    assert _found(db, "hot soup") == ["Hot soup bn"] and _found(db, "warm meals") == []


@pytest.mark.parametrize("fault", ["check", "write"])
def test_an_error_in_the_last_record_leaves_nothing_written(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    make_dataset(db, tag="ba")
    admin = make_account(db, "admin")
    services = _export(db)
    last = services[-1]
    if fault == "check":  # refused by the field rules while reading
        last["service_at_locations"][0]["location"]["latitude"] = 91
    else:  # passes the file checks, refused by the write path (no such organisation)
        last.pop("organization")
        last["organization_id"] = "00000000-0000-4000-8000-000000000001"
    path = tmp_path / "listings.json"
    path.write_text("[\n" + ",\n".join(json.dumps(s) for s in services) + "\n]\n")
    _empty(db)
    monkeypatch.setattr(
        importer, "BATCH", 1
    )  # the first services are written before the last is read
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert not report.ok and not report.applied
    assert report.errors and report.errors[0].line == len(services) + 1, [
        str(e) for e in report.errors
    ]
    if fault == "write":
        assert (
            report.errors[0].field == "organization_id"
            and "no such organization" in report.errors[0].reason
        )
    for model in (
        m.Service,
        m.Organization,
        m.Location,
        m.Phone,
        m.Translation,
        m.ServiceSearch,
        ChangeRequest,
        AuditEntry,
    ):
        assert _count(db, model) == 0, model


def test_bulk_publish_restores_an_archived_record_then_updates_it(
    db: Session, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from directory.db import utcnow

    ds = make_dataset(db, tag="br")
    admin = make_account(db, "admin")
    services = _export(db)
    meals = next(s for s in services if s["id"] == str(ds.exact.id))
    meals["name"] = "Warm soup br"
    path = tmp_path / "listings.json"
    path.write_text(json.dumps(services))
    db.execute(
        update(m.Service)
        .where(m.Service.id == ds.exact.id)
        .values(archived_at=utcnow(), version=m.Service.version + 1)
    )
    db.flush()
    db.expunge_all()
    report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    assert report.ok and report.applied and report.change_requests == 1, [
        str(e) for e in report.errors
    ]
    svc = db.get(m.Service, ds.exact.id)
    assert (
        svc is not None
        and svc.archived_at is None
        and svc.name == "Warm soup br"
        and svc.version == 4
    )
    entries = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_id == ds.exact.id)
        .order_by(AuditEntry.entity_version)
    ).all()
    assert [(e.action, e.entity_version) for e in entries] == [("restore", 3), ("update", 4)]
    assert (
        entries[0].change_request_id == entries[1].change_request_id
    )  # one bundle, one change request
    assert (
        entries[1].snapshot["archived_at"] is None and entries[1].snapshot["name"] == "Warm soup br"
    )
    assert _found(db, "warm soup") == ["Warm soup br"]


def test_links_and_categories_are_created_with_the_files_ids_batch_by_batch(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each service-at-location link and category attribute the import creates has the file's
    id from its INSERT on (`import_keep.kept_ids` → `BulkPublisher.link_ids`, `.attribute_ids`):
    no primary key is rewritten afterwards (on SQLite each such UPDATE of a link scanned the
    phones for references to it)."""
    make_dataset(db, tag="ki")
    admin = make_account(db, "admin")
    services = _export(db)
    links = {sal["id"] for s in services for sal in s["service_at_locations"]}
    attributes = {a["id"] for s in services for a in s["attributes"]}
    assert links and attributes
    path = tmp_path / "listings.json"
    path.write_text(json.dumps(services))
    _empty(db)
    monkeypatch.setattr(importer, "BATCH", 1)  # one service per batch
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().upper())

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        report = run_import(db, path, fmt="hsds-json", apply=True, publish=True, actor=admin)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert report.ok and report.published, [str(e) for e in report.errors]
    assert {str(i) for i in db.scalars(select(m.ServiceAtLocation.id))} == links
    stored = db.scalars(select(m.Attribute.id).where(m.Attribute.link_entity == "service"))
    assert {str(i) for i in stored} == attributes
    assert statements and not [
        s for s in statements if s.startswith(("UPDATE SERVICE_AT_LOCATION", "UPDATE ATTRIBUTE"))
    ]
    # each under its own service in the copy
    assert _linked_ids(_export(db)) == _linked_ids(services)


def _linked_ids(services: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (s["id"], x["id"]) for s in services for x in [*s["service_at_locations"], *s["attributes"]]
    }
