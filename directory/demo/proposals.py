"""The demo's moderation queue: a few proposals and reader reports waiting for the Kyiv moderator,
so that a person trying the demo cold sees what moderators do (scenario 5) instead of an empty
queue. Proposed through the write path like any other, by the demo's Kyiv volunteer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.listings import models as m
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest, ChangeState

VOLUNTEER = "kyiv-volunteer@demo.invalid"
REGIONS = ("UA-30", "UA-32")


def ensure_demo_proposals(session: Session) -> int:
    """Propose the demo's waiting changes when nothing waits yet (never commits); returns how
    many change requests and reports it added."""
    pending = session.scalar(
        select(ChangeRequest.id).where(ChangeRequest.state == ChangeState.pending).limit(1)
    )
    volunteer = session.scalar(select(Account).where(Account.email == VOLUNTEER))
    if pending is not None or volunteer is None:
        return 0
    regions = select(m.Place.id).where(m.Place.code.in_(REGIONS))
    sheltered = session.execute(
        select(m.Location, m.ServiceAtLocation.service_id)
        .join(m.ServiceAtLocation, m.ServiceAtLocation.location_id == m.Location.id)
        .where(
            m.Location.region_id.in_(regions),
            m.Location.archived_at.is_(None),
            m.Location.privacy == "exact",
            m.Location.capacity_available.is_not(None),
            m.Location.capacity_available > 3,
        )
        .order_by(m.Location.name)
        .limit(3)
    ).all()
    added = 0
    for i, (location, service_id) in enumerate(sheltered):
        if i == 0:  # the evening count after new arrivals
            moderation.propose(
                session,
                actor=volunteer,
                entity_type="location",
                kind="capacity",
                entity_id=location.id,
                base_version=location.version,
                changes={"capacity_available": (location.capacity_available or 3) - 3},
                comment="Three families arrived this evening (demo).",
                source="demo",
            )
        elif i == 1:  # a fact a volunteer saw on the spot
            moderation.propose(
                session,
                actor=volunteer,
                entity_type="location",
                kind="update",
                entity_id=location.id,
                base_version=location.version,
                changes={"has_power": True, "has_heating": True},
                comment="Generator running, radiators warm (demo).",
                source="demo",
            )
        else:  # what readers told us
            moderation.report(session, service_id=service_id, kind="no_answer", locale="uk")
        added += 1
    return added
