"""Review: approve (with the three-way merge), reject, withdraw, acknowledge."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.accounts.service import in_scope, is_moderator
from directory.db import utcnow
from directory.errors import Conflict, Forbidden, NotFound, ValidationFailed
from directory.moderation.apply import _apply, _Stale
from directory.moderation.diff import _audit_since, _conflicts, _diff_json, diff
from directory.moderation.groups import _apply_group, _group_places, group_of
from directory.moderation.models import ChangeKind, ChangeRequest, ChangeState
from directory.moderation.scopes import _places
from directory.moderation.validation import _record

_UNREAD: Any = object()  # _check_reviewer: the record was not read yet


def _pending(session: Session, change_id: uuid.UUID) -> ChangeRequest:
    cr = session.get(ChangeRequest, change_id)
    if cr is None:
        raise NotFound("No such change request")
    if cr.state != ChangeState.pending:
        raise Conflict(f"This change request is already {cr.state.value}", state=cr.state.value)
    return cr


def _check_reviewer(
    session: Session, cr: ChangeRequest, reviewer: Account, record: Any = _UNREAD
) -> None:
    if reviewer.disabled or not is_moderator(reviewer):
        raise Forbidden("Only moderators review changes")
    if cr.author_id == reviewer.id:
        raise Forbidden("Nobody reviews their own change: another moderator must")
    if record is _UNREAD:
        record = _record(session, cr)
    places = _places(session, cr.entity_type, record, cr.payload.get("fields", {}))
    if not in_scope(session, reviewer, places):
        raise Forbidden("This change is outside your regions")


def approve(
    session: Session, *, change_id: uuid.UUID, reviewer: Account, now: dt.datetime | None = None
) -> ChangeRequest:
    """Apply a pending change atomically (version-checked; 409 Conflict if the record moved on)."""
    now = now or utcnow()
    cr = _pending(session, change_id)
    if cr.group_id is not None:
        members = [x for x in group_of(session, change=cr) if x.state == ChangeState.pending]
        for x in members:
            _check_reviewer(session, x, reviewer, None)
        if not in_scope(session, reviewer, _group_places(session, members)):
            raise Forbidden("This change is outside your regions")
        _apply_group(session, members, approver=reviewer, now=now)
        return cr
    record = _record(session, cr)
    _check_reviewer(session, cr, reviewer, record)
    if cr.kind != ChangeKind.create and (record is None or record.version != cr.base_version):
        since = _audit_since(session, cr)
        conflicts = _conflicts(session, cr, record, since)
        if conflicts:
            current = record.version if record is not None else None
            raise Conflict(
                f"The {cr.entity_type} changed since this proposal (version {cr.base_version}; "
                f"now {current}). Compare and propose again, or reject.",
                current_version=current,
                base_version=cr.base_version,
                diff=[_diff_json(d) for d in diff(session, change=cr)],
                conflicts=conflicts,
                changes_since=[
                    {"version": a.entity_version, "at": a.at.isoformat(), "changes": a.changes}
                    for a in since
                ],
            )
        # Nothing it touches changed since: applied on top of the current record; the UPDATE
        # still checks the version read here, so a concurrent writer is never overwritten.
    try:
        _apply(session, cr, approver=reviewer, now=now)
    except _Stale as exc:
        raise Conflict(
            f"The {cr.entity_type} was changed by someone else meanwhile",
            current_version=exc.current,
            base_version=cr.base_version,
        ) from None
    return cr


def reject(
    session: Session,
    *,
    change_id: uuid.UUID,
    reviewer: Account,
    reason: str,
    now: dt.datetime | None = None,
) -> ChangeRequest:
    """Reject with a reason the author can read."""
    cr = _pending(session, change_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            [{"path": "reason", "code": "required", "message": "say why, for the author"}]
        )
    if reviewer.disabled or not is_moderator(reviewer):
        raise Forbidden("Only moderators review changes")
    places = _places(session, cr.entity_type, _record(session, cr), cr.payload.get("fields", {}))
    members = [x for x in group_of(session, change=cr) if x.state == ChangeState.pending]
    if cr.group_id is not None:
        places = [*places, *_group_places(session, members)]
    if not in_scope(session, reviewer, places):
        raise Forbidden("This change is outside your regions")
    for x in members:  # a new listing is rejected as a whole
        x.state = ChangeState.rejected
        x.reviewer_id = reviewer.id
        x.review_reason = reason[:5000]
        x.decided_at = now or utcnow()
    session.flush()
    return cr


def withdraw(session: Session, *, change_id: uuid.UUID, actor: Account) -> ChangeRequest:
    cr = _pending(session, change_id)
    if cr.author_id != actor.id:
        raise Forbidden("Only the author withdraws a change")
    for x in group_of(session, change=cr):
        if x.state == ChangeState.pending:
            x.state = ChangeState.withdrawn
            x.decided_at = utcnow()
    session.flush()
    return cr


def acknowledge(session: Session, *, change_id: uuid.UUID, reviewer: Account) -> ChangeRequest:
    """A moderator has looked at a change published without review (trusted volunteer)."""
    cr = session.get(ChangeRequest, change_id)
    if cr is None:
        raise NotFound("No such change request")
    if not cr.needs_review:
        raise Conflict("This change does not need review")
    _check_reviewer(session, cr, reviewer)
    cr.needs_review = False
    cr.reviewer_id = reviewer.id
    session.flush()
    return cr
