"""Reading change requests: one change (`get_change`), the moderators' queue, the author's own."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.accounts.service import in_scope, is_moderator
from directory.db import utcnow
from directory.errors import Forbidden, NotFound
from directory.listings import models as m
from directory.moderation.fields import GROUP_ORDER
from directory.moderation.groups import group_head
from directory.moderation.models import ChangeKind, ChangeRequest, ChangeState, Report, ReportState
from directory.moderation.scopes import _location_places, _places, _region_of, in_scope_of
from directory.moderation.validation import _kind, _record

#: How many change requests of new listings (groups) the queue reads at most.
GROUPED_WINDOW = 20_000


@dataclass
class QueueView:
    items: list[ChangeRequest]
    reports: list[Report]
    counts: dict[str, int] = field(default_factory=dict)  # by kind, plus "reports", "sensitive"
    total: int = 0
    # group_id → its pending change requests, parents first (an item with a group_id stands
    # for the whole new listing)
    groups: dict[uuid.UUID, list[ChangeRequest]] = field(default_factory=dict)


def get_change(session: Session, *, change_id: uuid.UUID, viewer: Account) -> ChangeRequest:
    """A change request, for its author or a moderator in scope (404 for anyone else)."""
    cr = session.get(ChangeRequest, change_id)
    if cr is None:
        raise NotFound("No such change request")
    if cr.author_id == viewer.id:
        return cr
    places = _places(session, cr.entity_type, _record(session, cr), cr.payload.get("fields", {}))
    if cr.group_id is not None:
        places = [*places, cr.region_id]
    if is_moderator(viewer) and in_scope(session, viewer, places):
        return cr
    raise NotFound("No such change request")


def queue(
    session: Session,
    *,
    viewer: Account,
    region_id: uuid.UUID | None = None,
    category: str | None = None,
    kind: ChangeKind | str | None = None,
    older_than: dt.timedelta | None = None,
    limit: int = 100,
    now: dt.datetime | None = None,
) -> QueueView:
    """What waits for moderators in the viewer's regions: pending changes (oldest first),
    published changes still to be looked at, open reports; with counts by kind."""
    if not is_moderator(viewer):
        raise Forbidden("Only moderators see the queue")
    now = now or utcnow()
    stmt = select(ChangeRequest).where(
        or_(ChangeRequest.state == ChangeState.pending, ChangeRequest.needs_review.is_(True))
    )
    if kind:
        stmt = stmt.where(ChangeRequest.kind == _kind(kind))
    if older_than:
        stmt = stmt.where(ChangeRequest.created_at <= now - older_than)
    if category:
        service_ids = (
            select(m.Attribute.link_id)
            .join(m.TaxonomyTerm, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(
                or_(m.TaxonomyTerm.code == category, m.TaxonomyTerm.code.startswith(category + "."))
            )
        )
        stmt = stmt.where(ChangeRequest.service_id.in_(service_ids))
    # Changes on their own: the oldest 2,000. Records of new listings (groups, ~5-30 records
    # each) are read apart with a larger window, so that a big import's new listings do not
    # crowd each other (or the single changes) out of the queue.
    rows = list(
        session.scalars(
            stmt.where(ChangeRequest.group_id.is_(None))
            .order_by(ChangeRequest.created_at)
            .limit(2000)
        )
    )
    rows += session.scalars(
        stmt.where(ChangeRequest.group_id.is_not(None))
        .order_by(ChangeRequest.created_at)
        .limit(GROUPED_WINDOW)
    )
    rows.sort(key=lambda cr: cr.created_at)
    cache: dict[uuid.UUID | None, bool] = {}

    def visible(place: uuid.UUID | None) -> bool:
        if place not in cache:
            in_filter = region_id is None or in_scope_of(session, place, region_id)
            cache[place] = in_filter and in_scope(session, viewer, [place])
        return cache[place]

    items = [cr for cr in rows if visible(cr.region_id)]
    # A new listing is one line: its head (the service's create) stands for the whole group.
    groups: dict[uuid.UUID, list[ChangeRequest]] = {}
    for cr in items:
        if cr.group_id is not None:
            groups.setdefault(cr.group_id, []).append(cr)
    rank = {name: i for i, name in enumerate(GROUP_ORDER)}
    for members in groups.values():
        members.sort(
            key=lambda cr: (rank.get(cr.entity_type, len(rank)), cr.created_at, str(cr.id))
        )
    heads = {id(group_head(members)) for members in groups.values()}
    items = [cr for cr in items if cr.group_id is None or id(cr) in heads]
    counts: dict[str, int] = {}
    for cr in items:
        counts[cr.kind.value] = counts.get(cr.kind.value, 0) + 1
    counts["sensitive"] = sum(
        1
        for cr in items
        if cr.sensitive or any(x.sensitive for x in groups.get(cr.group_id or uuid.UUID(int=0), []))
    )
    counts["needs_review"] = sum(1 for cr in items if cr.needs_review)

    report_rows = list(
        session.execute(
            select(Report, m.ServiceAtLocation.location_id)
            .outerjoin(m.ServiceAtLocation, m.ServiceAtLocation.service_id == Report.service_id)
            .where(Report.state == ReportState.open)
            .order_by(Report.created_at)
            .limit(2000)
        )
    )
    reports: list[Report] = []
    seen: set[uuid.UUID] = set()
    for rep, loc_id in report_rows:
        if rep.id in seen:
            continue
        places = _location_places(session, [loc_id])
        region = _region_of(session, places)
        if visible(region):
            seen.add(rep.id)
            reports.append(rep)
    counts["reports"] = len(reports)
    return QueueView(
        items=items[:limit],
        reports=reports[:limit],
        counts=counts,
        total=len(items),
        groups={
            cr.group_id: groups[cr.group_id] for cr in items[:limit] if cr.group_id is not None
        },
    )


def my_changes(
    session: Session, *, author: Account, state: ChangeState | str | None = None, limit: int = 100
) -> list[ChangeRequest]:
    """The author's own change requests, newest first, with their state and review reason."""
    stmt = select(ChangeRequest).where(ChangeRequest.author_id == author.id)
    if state:
        stmt = stmt.where(ChangeRequest.state == ChangeState(state))
    return list(session.scalars(stmt.order_by(ChangeRequest.created_at.desc()).limit(limit)))
