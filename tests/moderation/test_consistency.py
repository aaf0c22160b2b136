"""One truth for status and capacity (issue 12 §4): "full" and free places never contradict,
whatever path writes them — a volunteer's proposal, a moderator's direct edit, the bulk import."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings.models import Service, ServiceStatus
from directory.listings.queries import SearchParams, search_services
from directory.moderation import service as mod
from directory.moderation.bulk import BulkPublisher
from directory.moderation.models import AuditEntry, ChangeState
from directory.search.index import reindex_services
from tests.factories import make_account, make_listing, make_place


def _entries(db: Session, cr_id: uuid.UUID) -> dict[str, dict]:  # type: ignore[type-arg]
    out: dict[str, dict] = {}  # type: ignore[type-arg]
    for row in db.scalars(select(AuditEntry).where(AuditEntry.change_request_id == cr_id)):
        out.setdefault(row.entity_type, {}).update(row.changes)
    return out


def _full(db: Session, svc: Service, loc_free: int | None = None) -> None:
    svc.status = ServiceStatus.full
    svc.status_reason = "No beds"
    svc.status_since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    db.flush()


def test_marking_full_empties_free_places_in_the_same_change_request(db: Session) -> None:
    region = make_place(db)
    svc, loc = make_listing(db, region=region, capacity_available=10)
    maria = make_account(db, "volunteer", [region])
    taras = make_account(db, "moderator", [region])
    cr = mod.propose(
        db,
        actor=maria,
        entity_type="service",
        entity_id=svc.id,
        kind="status",
        changes={"status": "full"},
        base_version=svc.version,
    )
    assert cr.state == ChangeState.pending and loc.capacity_available == 10
    lines = {(d.entity_type, d.field): (d.current, d.proposed) for d in mod.diff(db, change=cr)}
    # The moderator sees what approving does to the place too, before approving.
    assert lines[(None, "status")] == ("active", "full")
    assert lines[("location", "capacity_available")] == (10, 0)
    mod.approve(db, change_id=cr.id, reviewer=taras)
    assert svc.status == ServiceStatus.full and loc.capacity_available == 0
    assert loc.capacity_updated is not None
    entries = _entries(db, cr.id)
    assert entries["location"]["capacity_available"] == [10, 0]
    assert entries["service"]["status"] == ["active", "full"]
    # After approval the diff is what happened (before → after), never "0 → unchanged".
    done = {(d.entity_type, d.field): (d.current, d.proposed) for d in mod.diff(db, change=cr)}
    assert done[(None, "status")] == ("active", "full")
    assert done[("location", "capacity_available")] == (10, 0)
    assert all(d.current != d.proposed for d in mod.diff(db, change=cr))


def test_free_places_end_full_and_clear_its_reason(db: Session) -> None:
    region = make_place(db)
    svc, loc = make_listing(db, region=region, capacity_available=0)
    _full(db, svc)
    taras = make_account(db, "moderator", [region])
    cr = mod.propose(
        db,
        actor=taras,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 12},
        base_version=loc.version,
    )
    assert cr.state == ChangeState.approved
    assert loc.capacity_available == 12
    assert svc.status == ServiceStatus.active
    assert svc.status_reason is None and svc.status_since is None
    assert _entries(db, cr.id)["service"]["status"] == ["full", "active"]
    lines = {(d.entity_type, d.field): (d.current, d.proposed) for d in mod.diff(db, change=cr)}
    assert lines[(None, "capacity_available")] == (0, 12)
    assert lines[("service", "status")] == ("full", "active")
    assert lines[("service", "status_reason")] == ("No beds", None)


def test_maria_full_then_twelve_free_beds_as_trusted_volunteer(db: Session) -> None:
    region = make_place(db)
    svc, loc = make_listing(db, region=region, capacity_available=3)
    maria = make_account(db, "volunteer", [region], trusted=True)
    mod.propose(
        db,
        actor=maria,
        entity_type="service",
        entity_id=svc.id,
        kind="status",
        changes={"status": "full"},
        trusted_publish=True,
    )
    assert (svc.status, loc.capacity_available) == (ServiceStatus.full, 0)
    cr = mod.propose(
        db,
        actor=maria,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 12},
        trusted_publish=True,
    )
    assert cr.state == ChangeState.approved and cr.needs_review
    assert (svc.status, loc.capacity_available) == (ServiceStatus.active, 12)
    # The moderator looking at it afterwards reads 0 → 12, not "12 → unchanged".
    [line, *others] = [d for d in mod.diff(db, change=cr) if d.field == "capacity_available"]
    assert (line.current, line.proposed) == (0, 12) and not others


def test_zero_free_places_do_not_touch_status(db: Session) -> None:
    svc, loc = make_listing(db, capacity_available=5)
    taras = make_account(db, "moderator")
    mod.propose(
        db,
        actor=taras,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 0},
    )
    assert svc.status == ServiceStatus.active
    # A temporarily closed place keeps its status when places free up.
    mod.propose(
        db,
        actor=taras,
        entity_type="service",
        entity_id=svc.id,
        kind="status",
        changes={"status": "temporarily closed"},
    )
    mod.propose(
        db,
        actor=taras,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 4},
    )
    assert svc.status == ServiceStatus.temporarily_closed


def test_free_places_filter_never_lists_a_full_listing(db: Session) -> None:
    svc, loc = make_listing(db, capacity_available=8)
    # Contradictory data written around the write path (an old database): still not listed.
    svc.status = ServiceStatus.full
    db.flush()
    reindex_services(db, [svc.id])
    res = search_services(db, SearchParams(has_capacity=True, per_page=50), stale_after_days=30)
    assert svc.id not in {c.id for c in res.items}


def _bulk(db: Session, admin, *ops) -> None:  # type: ignore[no-untyped-def]
    pub = BulkPublisher(db, approver=admin, comment="test import")
    group = uuid.uuid4()
    for entity_type, entity_id, fields in ops:
        pub.add(entity_type, "update", entity_id, group=group, fields=fields)
    pub.flush()
    pub.finish()


def test_bulk_writer_keeps_status_and_capacity_in_step(db: Session) -> None:
    admin = make_account(db, "admin")
    svc, loc = make_listing(db, capacity_available=10)
    _bulk(db, admin, ("service", svc.id, {"status": "full"}))
    db.refresh(loc)
    assert loc.capacity_available == 0
    entry = db.scalars(select(AuditEntry).where(AuditEntry.entity_id == loc.id)).one()
    assert entry.changes["capacity_available"] == [10, 0] and entry.change_request_id is not None

    _bulk(db, admin, ("location", loc.id, {"capacity_available": 12}))
    db.refresh(svc)
    assert svc.status == ServiceStatus.active

    # Both in one write ("full, 12 free"): full wins, never both.
    _bulk(
        db,
        admin,
        ("service", svc.id, {"status": "full"}),
        ("location", loc.id, {"capacity_available": 12}),
    )
    db.refresh(svc)
    db.refresh(loc)
    assert (svc.status, loc.capacity_available) == (ServiceStatus.full, 0)
