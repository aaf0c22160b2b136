"""Approving a queued proposal whose record moved on: a three-way merge on fields. Only a
field (or translation) the proposal touches that was changed since is a conflict (409 with the
diff); bookkeeping and verification never are; the write itself stays version-checked."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from directory.errors import Conflict
from directory.listings.models import Location, Service, Translation
from directory.moderation import service as mod
from directory.moderation.models import AuditEntry, ChangeState
from tests.factories import make_account, make_listing


def _people(db: Session) -> tuple:
    return (
        make_account(db, "volunteer"),
        make_account(db, "volunteer"),
        make_account(db, "moderator"),
    )


def test_capacity_and_status_from_the_same_base_both_approve(db: Session) -> None:
    svc, loc = make_listing(db, capacity_available=5, capacity_maximum=50)
    vol1, vol2, taras = _people(db)
    cap = mod.propose(
        db,
        actor=vol1,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 12},
        base_version=loc.version,
    )
    status = mod.propose(
        db,
        actor=vol2,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full"},
        base_version=svc.version,
    )
    edit = mod.propose(
        db,
        actor=vol2,
        entity_type="location",
        kind="update",
        entity_id=loc.id,
        changes={"transportation": "Tram 5"},
        base_version=loc.version,
    )
    base_service = svc.version
    mod.approve(db, change_id=cap.id, reviewer=taras)
    # Approving the capacity verified the service (a new service version, assured_date only).
    assert svc.version > base_service and svc.assured_date is not None
    mod.approve(db, change_id=status.id, reviewer=taras)
    mod.approve(db, change_id=edit.id, reviewer=taras)  # the location moved on: other field
    assert (cap.state, status.state, edit.state) == (ChangeState.approved,) * 3
    assert svc.status == "full"
    # "Full", approved last, empties the free places (never "full" with 12 free places).
    assert loc.capacity_available == 0 and loc.transportation == "Tram 5"
    last = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_id == loc.id)
        .order_by(AuditEntry.entity_version.desc())
    ).first()
    assert last is not None and last.entity_version == loc.version
    assert last.changes["transportation"][1] == "Tram 5"
    assert "capacity_available" not in last.changes  # nothing re-applied or reverted


def test_same_field_from_the_same_base_second_is_a_conflict_with_the_diff(db: Session) -> None:
    _, loc = make_listing(db, capacity_available=5, capacity_maximum=50)
    vol1, vol2, taras = _people(db)
    first = mod.propose(
        db,
        actor=vol1,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 12},
        base_version=loc.version,
    )
    second = mod.propose(
        db,
        actor=vol2,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 3},
        base_version=loc.version,
    )
    mod.approve(db, change_id=first.id, reviewer=taras)
    with pytest.raises(Conflict) as err:
        mod.approve(db, change_id=second.id, reviewer=taras)
    extra = err.value.extra
    assert extra["current_version"] == loc.version and extra["base_version"] == 1
    assert extra["conflicts"] == [{"field": "capacity_available", "locale": None}]
    assert extra["diff"][0] == {
        "field": "capacity_available",
        "locale": None,
        "current": 12,
        "proposed": 3,
        "sensitive": False,
    }
    assert extra["changes_since"][0]["changes"]["capacity_available"] == [5, 12]
    assert second.state == ChangeState.pending and loc.capacity_available == 12


def test_the_same_value_proposed_twice_is_no_conflict(db: Session) -> None:
    svc, _ = make_listing(db)
    vol1, vol2, taras = _people(db)
    a = mod.propose(
        db,
        actor=vol1,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full"},
    )
    b = mod.propose(
        db,
        actor=vol2,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full"},
    )
    mod.approve(db, change_id=a.id, reviewer=taras)
    mod.approve(db, change_id=b.id, reviewer=taras)
    assert b.state == ChangeState.approved and svc.status == "full"


def test_translations_conflict_per_field_and_locale(db: Session) -> None:
    svc, _ = make_listing(db)
    vol1, vol2, taras = _people(db)
    uk = mod.propose(
        db,
        actor=vol1,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        translations={"name": {"uk": "Укриття"}},
    )
    uk_again = mod.propose(
        db,
        actor=vol2,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        translations={"name": {"uk": "Сховище"}},
    )
    pl = mod.propose(
        db,
        actor=vol2,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        translations={"name": {"pl": "Schron"}},
    )
    uk_description = mod.propose(
        db,
        actor=vol2,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        translations={"description": {"uk": "Сухо"}},
    )
    mod.approve(db, change_id=uk.id, reviewer=taras)
    with pytest.raises(Conflict) as err:
        mod.approve(db, change_id=uk_again.id, reviewer=taras)
    assert err.value.extra["conflicts"] == [{"field": "name", "locale": "uk"}]
    assert err.value.extra["diff"] == [
        {
            "field": "name",
            "locale": "uk",
            "current": "Укриття",
            "proposed": "Сховище",
            "sensitive": False,
        }
    ]
    mod.approve(db, change_id=pl.id, reviewer=taras)  # another locale of the same field
    mod.approve(db, change_id=uk_description.id, reviewer=taras)  # same locale, other field
    texts = dict(
        db.execute(
            select(Translation.field, Translation.value).where(
                Translation.entity_id == svc.id, Translation.locale == "uk"
            )
        ).all()
    )
    assert texts == {"name": "Укриття", "description": "Сухо"}
    assert (
        db.scalar(
            select(Translation.value).where(
                Translation.entity_id == svc.id, Translation.locale == "pl"
            )
        )
        == "Schron"
    )


def test_source_locale_text_conflicts_with_a_column_edit(db: Session) -> None:
    svc, _ = make_listing(db)
    vol1, vol2, taras = _people(db)
    column = mod.propose(
        db,
        actor=vol1,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        changes={"name": "Shelter under the school"},
    )
    as_text = mod.propose(
        db,
        actor=vol2,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        translations={"name": {svc.source_locale: "Basement shelter"}},
    )
    mod.approve(db, change_id=column.id, reviewer=taras)
    with pytest.raises(Conflict) as err:
        mod.approve(db, change_id=as_text.id, reviewer=taras)
    assert err.value.extra["conflicts"] == [{"field": "name", "locale": svc.source_locale}]


def test_verifying_in_between_is_no_conflict(db: Session) -> None:
    svc, _ = make_listing(db)
    vol, _, taras = _people(db)
    other = make_account(db, "moderator")
    cr = mod.propose(
        db,
        actor=vol,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        changes={"description": "Dry, warm, two floors down"},
    )
    verified = mod.propose(db, actor=other, entity_type="service", kind="verify", entity_id=svc.id)
    assert verified.state == ChangeState.approved and svc.version > cr.base_version
    mod.approve(db, change_id=cr.id, reviewer=taras)
    assert cr.state == ChangeState.approved and svc.description == "Dry, warm, two floors down"


def test_archived_meanwhile_conflicts_only_with_archive_or_restore(db: Session) -> None:
    svc, _ = make_listing(db)
    vol, _, taras = _people(db)
    other = make_account(db, "moderator")
    restore_later = mod.propose(
        db, actor=vol, entity_type="service", kind="archive", entity_id=svc.id
    )
    mod.propose(db, actor=other, entity_type="service", kind="archive", entity_id=svc.id)
    mod.propose(db, actor=other, entity_type="service", kind="restore", entity_id=svc.id)
    with pytest.raises(Conflict) as err:  # archived and restored since: look again
        mod.approve(db, change_id=restore_later.id, reviewer=taras)
    assert err.value.extra["conflicts"] == [{"field": "archived", "locale": None}]


def test_a_write_without_audit_entry_is_a_conflict(db: Session) -> None:
    """When the audit log cannot explain the current version, nothing is assumed."""
    svc, _ = make_listing(db)
    vol, _, taras = _people(db)
    cr = mod.propose(
        db,
        actor=vol,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full"},
    )
    db.execute(update(Service).where(Service.id == svc.id).values(version=Service.version + 1))
    db.expire(svc)
    with pytest.raises(Conflict) as err:
        mod.approve(db, change_id=cr.id, reviewer=taras)
    assert err.value.extra["conflicts"] == [{"field": "status", "locale": None}]


def test_a_concurrent_write_after_the_check_is_still_refused(db: Session) -> None:
    """The merged write keeps the version it read: a writer that slips in between the check
    and the UPDATE makes the UPDATE match no row (409), and nothing is overwritten."""
    _, loc = make_listing(db, capacity_available=5, capacity_maximum=50)
    vol1, vol2, taras = _people(db)
    other = make_account(db, "moderator")
    cr = mod.propose(
        db,
        actor=vol1,
        entity_type="location",
        kind="capacity",
        entity_id=loc.id,
        changes={"capacity_available": 12},
    )
    mod.propose(
        db,
        actor=other,
        entity_type="location",
        kind="update",
        entity_id=loc.id,
        changes={"transportation": "Bus 7"},
    )
    read_version = loc.version
    # Another transaction's write, invisible to this session's loaded record.
    db.execute(
        update(Location)
        .where(Location.id == loc.id)
        .values(version=Location.version + 1, capacity_available=40)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict) as err:
        mod.approve(db, change_id=cr.id, reviewer=taras)
    assert err.value.extra["current_version"] == read_version + 1
    assert cr.state == ChangeState.pending
    assert db.scalar(select(Location.capacity_available).where(Location.id == loc.id)) == 40
