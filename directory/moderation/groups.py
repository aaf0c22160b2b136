"""Groups: a new listing proposed as one unit of creates that refer to each other; found,
ordered (parents first) and applied all or nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.errors import Conflict
from directory.moderation.apply import _apply, _reindex, _Stale, deferred_reindex
from directory.moderation.fields import GROUP_ORDER
from directory.moderation.models import ChangeRequest, ChangeState


@dataclass(frozen=True)
class GroupRecord:
    """One record of a new listing for `propose_group`: a create of `entity_type` (its id may
    be given, so that the other records can refer to it)."""

    entity_type: str
    changes: Mapping[str, Any]
    translations: Mapping[str, Mapping[str, Any]] | None = None
    entity_id: uuid.UUID | None = None


def group_of(session: Session, *, change: ChangeRequest) -> list[ChangeRequest]:
    """The change requests of `change`'s group (itself alone when it has none), parents first:
    the order they are applied in."""
    if change.group_id is None:
        return [change]
    members = list(
        session.scalars(select(ChangeRequest).where(ChangeRequest.group_id == change.group_id))
    )
    rank = {name: i for i, name in enumerate(GROUP_ORDER)}
    return sorted(
        members, key=lambda cr: (rank.get(cr.entity_type, len(rank)), cr.created_at, str(cr.id))
    )


def group_head(members: list[ChangeRequest]) -> ChangeRequest:
    """The change that stands for a group in lists: the new service's (else the first)."""
    return next((cr for cr in members if cr.entity_type == "service"), members[0])


def _share_group_facts(session: Session, cr: ChangeRequest) -> None:
    """Records of a new listing learn their region and service from each other (a service's
    region is its place's; a place's service is the one it offers), so the whole group is in
    the queue filters and region scopes of the listing."""
    members = list(
        session.scalars(
            select(ChangeRequest).where(
                ChangeRequest.group_id == cr.group_id, ChangeRequest.state == ChangeState.pending
            )
        )
    )
    if cr.entity_type == "location":
        ids = cr.payload.get("fields", {}).get("service_ids") or []
        if ids and cr.service_id is None:
            cr.service_id = uuid.UUID(ids[0])
    region = next((x.region_id for x in members if x.region_id is not None), None)
    service = next((x.service_id for x in members if x.service_id is not None), None)
    for x in members:
        if x.region_id is None and region is not None:
            x.region_id = region
        if x.service_id is None and service is not None:
            x.service_id = service
    session.flush()


def _apply_group(
    session: Session, members: list[ChangeRequest], *, approver: Account, now: dt.datetime
) -> None:
    """Apply every pending change of a group, parents first, all or nothing; the services it
    touches are reindexed once for the whole group (not once per record)."""
    try:
        with session.begin_nested():
            with deferred_reindex(session) as touched:
                for cr in members:
                    if cr.state == ChangeState.pending:
                        _apply(session, cr, approver=approver, now=now)
            session.flush()
            _reindex(session, touched)
    except _Stale as exc:
        raise Conflict(
            "A record of this new listing was changed meanwhile", current_version=exc.current
        ) from None


def _group_places(session: Session, members: list[ChangeRequest]) -> list[uuid.UUID | None]:
    return [cr.region_id for cr in members if cr.region_id is not None]
