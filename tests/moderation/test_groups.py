"""A new listing proposed as one group of dependent change requests: reviewed, approved (parents
first, atomically) or rejected as one unit; the fraud guard still applies."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.errors import Forbidden, ValidationFailed
from directory.listings import models as m
from directory.moderation import service as mod
from directory.moderation.models import AuditEntry, ChangeRequest, ChangeState
from tests.factories import make_account, make_place


def _listing(region_id: uuid.UUID, *, phone: str = "+380441234567") -> list[mod.GroupRecord]:
    org, svc, loc = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    return [
        mod.GroupRecord(
            "organization", {"name": "New relief group", "description": ""}, entity_id=org
        ),
        mod.GroupRecord(
            "service",
            {
                "organization_id": str(org),
                "name": "Warm room",
                "description": "Tea and heating",
                "categories": [],
            },
            translations={"name": {"uk": "Теплий пункт"}},
            entity_id=svc,
        ),
        mod.GroupRecord(
            "location",
            {
                "organization_id": str(org),
                "name": "School 5",
                "region_id": str(region_id),
                "service_ids": [str(svc)],
                "latitude": "50.45",
                "longitude": "30.52",
            },
            entity_id=loc,
        ),
        mod.GroupRecord(
            "address",
            {
                "location_id": str(loc),
                "address_1": "5 School St",
                "city": "Testopil",
                "country": "UA",
            },
        ),
        mod.GroupRecord("phone", {"location_id": str(loc), "number": phone}),
        mod.GroupRecord(
            "schedule",
            {
                "location_id": str(loc),
                "freq": "WEEKLY",
                "byday": "MO,TU",
                "opens_at": "09:00",
                "closes_at": "18:00",
            },
        ),
        mod.GroupRecord("language", {"service_id": str(svc), "code": "uk", "name": "Ukrainian"}),
        mod.GroupRecord("required_document", {"service_id": str(svc), "document": "Passport"}),
        mod.GroupRecord(
            "accessibility", {"location_id": str(loc), "description": "Ramp at the back"}
        ),
        mod.GroupRecord(
            "schedule_exception",
            {"location_id": str(loc), "date": "2026-12-25", "closed": True, "reason": "Holiday"},
        ),
    ]


def test_volunteer_proposes_a_new_listing_as_one_group_and_a_moderator_approves_it_whole(
    db: Session,
) -> None:
    region = make_place(db)
    vol = make_account(db, "volunteer", [region])
    moderator = make_account(db, "moderator", [region])
    crs = mod.propose_group(db, actor=vol, records=_listing(region.id), comment="Seen today")
    assert len(crs) == 10 and {cr.state for cr in crs} == {ChangeState.pending}
    assert len({cr.group_id for cr in crs}) == 1 and crs[0].group_id is not None
    # nothing is published before the approval
    assert db.get(m.Service, crs[1].entity_id) is None
    # every record knows the listing's region and service (queue filters, region scopes)
    assert {cr.region_id for cr in crs} == {region.id}
    assert {cr.service_id for cr in crs} == {crs[1].entity_id}
    # the queue shows the group once: the service's create stands for it
    view = mod.queue(db, viewer=moderator)
    assert [cr.id for cr in view.items] == [crs[1].id] and view.total == 1
    members = view.groups[crs[0].group_id]
    assert [x.entity_type for x in members][:3] == ["organization", "service", "location"]
    assert len(members) == 10 and view.counts["sensitive"] == 1  # the address and phone
    # approving any record of the group approves the whole listing, parents first
    mod.approve(db, change_id=crs[4].id, reviewer=moderator)
    assert {cr.state for cr in crs} == {ChangeState.approved}
    svc = db.get(m.Service, crs[1].entity_id)
    loc = db.get(m.Location, crs[2].entity_id)
    assert svc is not None and loc is not None and svc.name == "Warm room"
    assert db.scalars(
        select(m.ServiceAtLocation.service_id).where(m.ServiceAtLocation.location_id == loc.id)
    ).all() == [svc.id]
    assert db.scalars(select(m.Phone.number).where(m.Phone.location_id == loc.id)).all() == [
        "+380441234567"
    ]
    assert db.scalars(select(m.Language.code).where(m.Language.service_id == svc.id)).all() == [
        "uk"
    ]
    assert db.scalars(
        select(m.RequiredDocument.document).where(m.RequiredDocument.service_id == svc.id)
    ).all() == ["Passport"]
    assert db.scalars(
        select(m.Accessibility.description).where(m.Accessibility.location_id == loc.id)
    ).all() == ["Ramp at the back"]
    [exc] = db.scalars(
        select(m.ScheduleException).where(m.ScheduleException.location_id == loc.id)
    ).all()
    assert exc.closed and exc.reason == "Holiday"
    assert (
        db.scalar(select(m.Translation.value).where(m.Translation.entity_id == svc.id))
        == "Теплий пункт"
    )
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.change_request_id.in_([cr.id for cr in crs]))
    ).all()
    assert len(entries) == 10 and {e.approver_id for e in entries} == {moderator.id}
    assert {e.author_id for e in entries} == {vol.id}
    assert mod.queue(db, viewer=moderator).total == 0
    # the new service is in the search index once the group is applied (reindexed once for it)
    from directory.listings.queries import SearchParams, search_services

    found = search_services(db, SearchParams(q="Warm room", locale="en"), stale_after_days=30)
    assert svc.id in {card.id for card in found.items}


def test_rejecting_a_group_rejects_the_whole_listing(db: Session) -> None:
    region = make_place(db)
    vol = make_account(db, "volunteer")
    moderator = make_account(db, "moderator")
    crs = mod.propose_group(db, actor=vol, records=_listing(region.id))
    mod.reject(db, change_id=crs[1].id, reviewer=moderator, reason="This place does not exist")
    assert {cr.state for cr in crs} == {ChangeState.rejected}
    assert {cr.review_reason for cr in crs} == {"This place does not exist"}
    assert db.get(m.Service, crs[1].entity_id) is None


def test_withdrawing_a_group_withdraws_every_record(db: Session) -> None:
    region = make_place(db)
    vol = make_account(db, "volunteer")
    crs = mod.propose_group(db, actor=vol, records=_listing(region.id))
    mod.withdraw(db, change_id=crs[0].id, actor=vol)
    assert {cr.state for cr in crs} == {ChangeState.withdrawn}


def test_a_moderators_new_listing_with_a_phone_waits_for_another_moderator(db: Session) -> None:
    region = make_place(db)
    taras, olha = make_account(db, "moderator"), make_account(db, "moderator")
    crs = mod.propose_group(db, actor=taras, records=_listing(region.id))
    assert {cr.state for cr in crs} == {ChangeState.pending}  # fraud guard: address and phone
    assert {cr.entity_type for cr in crs if cr.sensitive} == {"address", "phone"}
    with pytest.raises(Forbidden):
        mod.approve(db, change_id=crs[1].id, reviewer=taras)  # nobody approves their own
    mod.approve(db, change_id=crs[1].id, reviewer=olha)
    assert {cr.state for cr in crs} == {ChangeState.approved}


def test_a_moderators_new_listing_without_contact_details_is_published_at_once(db: Session) -> None:
    region = make_place(db)
    taras = make_account(db, "moderator")
    records = [r for r in _listing(region.id) if r.entity_type not in ("address", "phone")]
    crs = mod.propose_group(db, actor=taras, records=records)
    assert {cr.state for cr in crs} == {ChangeState.approved}
    assert db.get(m.Service, crs[1].entity_id) is not None


def test_a_bad_record_refuses_the_whole_group_with_its_index(db: Session) -> None:
    region = make_place(db)
    vol = make_account(db, "volunteer")
    before = db.scalar(select(ChangeRequest.id).limit(1))
    with pytest.raises(ValidationFailed) as err:
        mod.propose_group(db, actor=vol, records=_listing(region.id, phone="12"))
    assert err.value.errors[0]["path"] == "records/4/number"
    assert db.scalar(select(ChangeRequest.id).limit(1)) == before  # nothing left behind


def test_outside_a_group_a_reference_to_a_pending_record_is_refused(db: Session) -> None:
    vol = make_account(db, "volunteer")
    org = mod.propose(
        db,
        actor=vol,
        entity_type="organization",
        kind="create",
        changes={"name": "Pending org", "description": ""},
    )
    with pytest.raises(ValidationFailed) as err:
        mod.propose(
            db,
            actor=vol,
            entity_type="service",
            kind="create",
            changes={"organization_id": str(org.entity_id), "name": "S", "description": ""},
        )
    assert err.value.errors[0]["path"] == "organization_id"


def test_only_moderators_propose_a_verification_date(db: Session) -> None:
    region = make_place(db)
    vol = make_account(db, "volunteer")
    records = _listing(region.id)
    svc = records[1]
    records[1] = mod.GroupRecord(
        "service",
        {**svc.changes, "assured_date": "2026-11-20T09:30:00+00:00"},
        entity_id=svc.entity_id,
    )
    with pytest.raises(Forbidden):
        mod.propose_group(db, actor=vol, records=records)
    # an import (no account) may carry one; the moderator's approval publishes it
    crs = mod.propose_group(db, actor=None, records=records, source="import")
    mod.approve(db, change_id=crs[0].id, reviewer=make_account(db, "moderator"))
    service = db.get(m.Service, svc.entity_id)
    assert service is not None and service.assured_date is not None
    assert service.assured_date.replace(tzinfo=None).isoformat() == "2026-11-20T09:30:00"


def test_reverting_a_listing_keeps_its_verification(db: Session) -> None:
    from tests.factories import make_listing

    svc, _ = make_listing(db)
    moderator = make_account(db, "moderator")
    mod.propose(
        db,
        actor=moderator,
        entity_type="service",
        entity_id=svc.id,
        kind="update",
        changes={"description": "Changed words"},
        base_version=svc.version,
    )
    mod.propose(
        db,
        actor=moderator,
        entity_type="service",
        entity_id=svc.id,
        kind="verify",
        base_version=svc.version,
    )
    verified = svc.assured_date
    assert verified is not None
    cr = mod.revert(db, actor=moderator, entity_type="service", entity_id=svc.id, to_version=1)
    assert "assured_date" not in cr.payload["fields"]
    assert svc.description == "A test listing" and svc.assured_date == verified
