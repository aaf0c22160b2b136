"""The one write path: propose → review → apply, version-checked, audited; fraud guard; revert."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    TooManyRequests,
    ValidationFailed,
)
from directory.listings.models import Phone, Service, Translation
from directory.moderation import service as mod
from directory.moderation.models import AuditEntry, ChangeState
from tests.factories import make_account, make_listing, make_place


def _audit(db: Session, entity_id: uuid.UUID) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.entity_id == entity_id)))


def test_volunteer_proposes_moderator_approves_audited(db: Session) -> None:
    region = make_place(db)
    _, loc = make_listing(db, region=region)
    maria = make_account(db, "volunteer", [region])
    taras = make_account(db, "moderator", [region])
    cr = mod.propose(
        db,
        actor=maria,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 12},
        base_version=loc.version,
    )
    assert cr.state == ChangeState.pending and loc.capacity_available == 10
    [line] = mod.diff(db, change=cr)
    assert (line.field, line.current, line.proposed) == ("capacity_available", 10, 12)
    assert [c.id for c in mod.queue(db, viewer=taras).items] == [cr.id]
    with pytest.raises(Forbidden):
        mod.approve(db, change_id=cr.id, reviewer=maria)
    mod.approve(db, change_id=cr.id, reviewer=taras)
    assert cr.state == ChangeState.approved and loc.capacity_available == 12
    assert loc.capacity_updated is not None and loc.version == 2
    [entry] = _audit(db, loc.id)
    assert entry.author_id == maria.id and entry.approver_id == taras.id
    assert entry.changes["capacity_available"] == [10, 12]
    assert mod.my_changes(db, author=maria)[0].state == ChangeState.approved


def test_nobody_approves_their_own_change_and_stale_base_conflicts(db: Session) -> None:
    svc, _ = make_listing(db)
    vol = make_account(db, "volunteer")
    mod1, mod2 = make_account(db, "moderator"), make_account(db, "moderator")
    cr = mod.propose(
        db,
        actor=vol,
        entity_type="service",
        entity_id=svc.id,
        kind="update",
        changes={"description": "New words"},
        base_version=svc.version,
    )
    # Meanwhile a moderator edits the same field directly (published at once).
    direct = mod.propose(
        db,
        actor=mod1,
        entity_type="service",
        entity_id=svc.id,
        kind="update",
        changes={"description": "Other words"},
        base_version=svc.version,
    )
    assert direct.state == ChangeState.approved and svc.version == 2
    with pytest.raises(Conflict) as err:
        mod.approve(db, change_id=cr.id, reviewer=mod2)
    assert err.value.extra["current_version"] == 2
    assert err.value.extra["diff"][0]["proposed"] == "New words"
    assert err.value.extra["conflicts"] == [{"field": "description", "locale": None}]
    with pytest.raises(PreconditionFailed) as pf:
        mod.propose(
            db,
            actor=vol,
            entity_type="service",
            entity_id=svc.id,
            kind="update",
            changes={"name": "x"},
            base_version=1,
        )
    assert pf.value.extra["current_version"] == 2
    mod.reject(db, change_id=cr.id, reviewer=mod2, reason="Outdated, please propose again")
    assert mod.my_changes(db, author=vol)[0].review_reason.startswith("Outdated")


def test_fraud_guard_holds_moderators_own_phone_change(db: Session) -> None:
    _, loc = make_listing(db)
    phone = db.scalars(select(Phone).where(Phone.location_id == loc.id)).one()
    taras, olha = make_account(db, "moderator"), make_account(db, "moderator")
    cr = mod.propose(
        db,
        actor=taras,
        entity_type="phone",
        entity_id=phone.id,
        kind="update",
        changes={"number": "+380 44 765 4321"},
        base_version=phone.version,
    )
    assert cr.sensitive and cr.state == ChangeState.pending and phone.number == "+380441234567"
    with pytest.raises(Forbidden):
        mod.approve(db, change_id=cr.id, reviewer=taras)
    mod.approve(db, change_id=cr.id, reviewer=olha)
    assert phone.number == "+380447654321"
    # Coordinates, privacy and a new phone on a published listing are guarded too.
    for kind, etype, eid, changes in [
        ("update", "location", loc.id, {"latitude": 48.0, "longitude": 35.0}),
        ("update", "location", loc.id, {"privacy": "confidential"}),
        ("create", "phone", None, {"location_id": str(loc.id), "number": "+48221234567"}),
    ]:
        held = mod.propose(
            db, actor=taras, entity_type=etype, entity_id=eid, kind=kind, changes=changes
        )
        assert held.sensitive and held.state == ChangeState.pending


def test_trusted_volunteer_publishes_quick_updates_flagged(db: Session) -> None:
    svc, loc = make_listing(db)
    maria = make_account(db, "volunteer", trusted=True)
    cr = mod.propose(
        db,
        actor=maria,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 0},
        trusted_publish=True,
    )
    assert cr.state == ChangeState.approved and cr.needs_review and loc.capacity_available == 0
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    cr2 = mod.propose(
        db,
        actor=maria,
        entity_type="service",
        entity_id=svc.id,
        kind="status",
        changes={"status": "full", "status_until": until},
        translations={"status_reason": {"uk": "Немає місць", "en": "No beds"}},
        trusted_publish=True,
    )
    assert cr2.state == ChangeState.approved and svc.status == "full"
    assert svc.status_reason == "No beds" and svc.status_since is not None
    uk = db.scalar(
        select(Translation.value).where(Translation.entity_id == svc.id, Translation.locale == "uk")
    )
    assert uk == "Немає місць"
    taras = make_account(db, "moderator")
    assert {c.id for c in mod.queue(db, viewer=taras).items} == {cr.id, cr2.id}
    # Without the setting the same volunteer's update waits.
    cr3 = mod.propose(
        db,
        actor=maria,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 5},
    )
    assert cr3.state == ChangeState.pending


def test_region_scopes(db: Session) -> None:
    kyiv, lviv = make_place(db, name="Kyiv"), make_place(db, name="Lviv")
    _, loc = make_listing(db, region=lviv)
    vol = make_account(db, "volunteer", [kyiv])
    kyiv_mod = make_account(db, "moderator", [kyiv])
    with pytest.raises(Forbidden):
        mod.propose(
            db,
            actor=vol,
            entity_type="location",
            entity_id=loc.id,
            kind="capacity",
            changes={"capacity_available": 3},
        )
    lviv_vol = make_account(db, "volunteer", [lviv])
    cr = mod.propose(
        db,
        actor=lviv_vol,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 3},
    )
    with pytest.raises(Forbidden):
        mod.approve(db, change_id=cr.id, reviewer=kyiv_mod)
    assert mod.queue(db, viewer=kyiv_mod).items == []
    with pytest.raises(NotFound):
        mod.get_change(db, change_id=cr.id, viewer=vol)


@pytest.mark.parametrize(
    ("etype", "changes", "path"),
    [
        ("location", {"latitude": 91, "longitude": 30}, "latitude"),
        ("location", {"capacity_available": -1}, "capacity_available"),
        ("location", {"capacity_available": 50}, "capacity_available"),
        ("location", {"capacity_maximum": "ten"}, "capacity_maximum"),
        ("service", {"url": "javascript:alert(1)"}, "url"),
        ("service", {"email": "not-an-email"}, "email"),
        ("service", {"status_until": "2001-01-01T00:00:00+00:00"}, "status_until"),
        ("service", {"source_locale": "xx"}, "source_locale"),
        ("service", {"categories": ["no-such-category"]}, "categories"),
        ("service", {"name": "a\u202eb"}, "name"),
        ("service", {"unknown_field": 1}, "unknown_field"),
    ],
)
def test_validation_names_each_bad_field(db: Session, etype: str, changes: dict, path: str) -> None:
    svc, loc = make_listing(db)
    admin = make_account(db, "admin")
    eid = loc.id if etype == "location" else svc.id
    with pytest.raises(ValidationFailed) as err:
        mod.propose(
            db, actor=admin, entity_type=etype, entity_id=eid, kind="update", changes=changes
        )
    assert path in [e["path"] for e in err.value.errors]


def test_phone_numbers_must_be_valid_e164(db: Session) -> None:
    _, loc = make_listing(db)
    vol = make_account(db)
    with pytest.raises(ValidationFailed) as err:
        mod.propose(
            db,
            actor=vol,
            entity_type="phone",
            kind="create",
            changes={"location_id": str(loc.id), "number": "12345"},
        )
    assert err.value.errors[0]["path"] == "number"


def test_translations_are_diffed_and_unknown_locales_refused(db: Session) -> None:
    svc, _ = make_listing(db)
    vol = make_account(db)
    cr = mod.propose(
        db,
        actor=vol,
        entity_type="service",
        entity_id=svc.id,
        kind="update",
        translations={"name": {"uk": "Притулок", "ar": "ملجأ"}},
    )
    lines = {(d.field, d.locale): (d.current, d.proposed) for d in mod.diff(db, change=cr)}
    assert lines[("name", "uk")] == (None, "Притулок")
    with pytest.raises(ValidationFailed) as err:
        mod.propose(
            db,
            actor=vol,
            entity_type="service",
            entity_id=svc.id,
            kind="update",
            translations={"name": {"xx": "?"}},
        )
    assert err.value.errors[0]["path"] == "translations/name/xx"


def test_create_archive_restore_and_revert(db: Session) -> None:
    svc, loc = make_listing(db)
    admin = make_account(db, "admin")
    cr = mod.propose(
        db,
        actor=admin,
        entity_type="service",
        kind="create",
        changes={
            "organization_id": str(svc.organization_id),
            "name": "Kitchen",
            "description": "Hot meals",
        },
    )
    new = db.get(Service, cr.entity_id)
    assert new is not None and new.name == "Kitchen"
    mod.propose(
        db,
        actor=admin,
        entity_type="service",
        entity_id=new.id,
        kind="update",
        changes={"name": "Soup kitchen"},
    )
    mod.propose(db, actor=admin, entity_type="service", entity_id=new.id, kind="archive")
    assert new.archived_at is not None and new.version == 3
    rv = mod.revert(db, actor=admin, entity_type="service", entity_id=new.id, to_version=1)
    assert rv.state == ChangeState.approved
    assert new.name == "Kitchen" and new.archived_at is None and new.version == 4
    actions = [a.action for a in mod.audit(db, viewer=admin, entity_id=new.id)]
    assert actions == ["revert", "archive", "update", "create"]


def test_verify_sets_assured_date_moderators_only(db: Session) -> None:
    svc, _ = make_listing(db)
    vol, taras = make_account(db), make_account(db, "moderator")
    with pytest.raises(Forbidden):
        mod.propose(db, actor=vol, entity_type="service", entity_id=svc.id, kind="verify")
    mod.propose(db, actor=taras, entity_type="service", entity_id=svc.id, kind="verify")
    assert svc.assured_date is not None


def test_reports_land_in_queue_and_are_rate_limited(db: Session) -> None:
    svc, _ = make_listing(db)
    taras = make_account(db, "moderator")
    rep = mod.report(db, service_id=svc.id, kind="locked", text="Door locked at 22:00")
    assert [r.id for r in mod.queue(db, viewer=taras).reports] == [rep.id]
    with pytest.raises(ValidationFailed):
        mod.report(db, service_id=svc.id, kind="arson")
    for _ in range(mod.REPORTS_PER_SERVICE_PER_HOUR - 1):
        mod.report(db, service_id=svc.id, kind="full")
    with pytest.raises(TooManyRequests):
        mod.report(db, service_id=svc.id, kind="full")


def test_volunteers_cannot_post_notices_or_read_audit(db: Session) -> None:
    vol = make_account(db)
    with pytest.raises(Forbidden):
        mod.propose(
            db,
            actor=vol,
            entity_type="notice",
            kind="create",
            changes={"title": "Alert", "severity": "danger"},
        )
    with pytest.raises(Forbidden):
        mod.audit(db, viewer=vol)


def test_search_follows_published_capacity(db: Session) -> None:
    from directory.listings.queries import SearchParams, search_services
    from directory.search.index import reindex_services

    svc, loc = make_listing(db, capacity_available=0)
    reindex_services(db, [svc.id])
    taras = make_account(db, "moderator")

    def found() -> bool:
        res = search_services(db, SearchParams(has_capacity=True, per_page=50), stale_after_days=30)
        return svc.id in {c.id for c in res.items}

    assert not found()
    for available, expected in [(12, True), (5, True), (0, False)]:
        mod.propose(
            db,
            actor=taras,
            entity_type="location",
            entity_id=loc.id,
            kind="capacity",
            changes={"capacity_available": available},
        )
        assert found() is expected, available


def test_deferred_reindex_collects_services_and_keeps_audit(db: Session) -> None:
    from directory.listings.queries import SearchParams, search_services
    from directory.search.index import reindex_services

    svc, loc = make_listing(db, capacity_available=0)
    reindex_services(db, [svc.id])
    taras = make_account(db, "moderator")

    def found() -> bool:
        res = search_services(db, SearchParams(has_capacity=True, per_page=50), stale_after_days=30)
        return svc.id in {c.id for c in res.items}

    with mod.deferred_reindex(db) as touched:
        cr = mod.propose(
            db,
            actor=taras,
            entity_type="location",
            entity_id=loc.id,
            kind="capacity",
            changes={"capacity_available": 7},
        )
        with mod.deferred_reindex(db) as inner:
            pass
        assert inner == set()
    # Applied and audited at once, but the search document waits for the caller.
    assert cr.state == ChangeState.approved and loc.capacity_available == 7
    assert [e.changes["capacity_available"] for e in _audit(db, loc.id)] == [[0, 7]]
    assert touched == {svc.id}
    assert not found()
    reindex_services(db, touched)
    assert found()
    # Outside the block every change reindexes itself again.
    mod.propose(
        db,
        actor=taras,
        entity_type="location",
        entity_id=loc.id,
        kind="capacity",
        changes={"capacity_available": 0},
    )
    assert not found()
    assert "directory.moderation.deferred_reindex" not in db.info
