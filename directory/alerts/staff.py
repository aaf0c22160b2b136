"""What moderators do with feed alerts: see which notices a feed started, pin one so the feed does
not end it (audited with their name), and read the feed's recent messages — Exercise and Test ones
too, which readers never see."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.accounts.service import in_scope, is_moderator
from directory.alerts.models import AlertMessage, AlertNotice
from directory.db import utcnow
from directory.errors import Forbidden, NotFound
from directory.moderation.models import AuditEntry


def feed_links(session: Session, notice_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, AlertNotice]:
    ids = list(notice_ids)
    if not ids:
        return {}
    return {
        a.notice_id: a
        for a in session.scalars(select(AlertNotice).where(AlertNotice.notice_id.in_(ids)))
    }


def set_pinned(
    session: Session,
    *,
    notice_id: uuid.UUID,
    actor: Account,
    pinned: bool,
    now: dt.datetime | None = None,
) -> AlertNotice:
    """Pin (the feed will not end it) or unpin a feed's notice; audited with the person's name."""
    link = session.get(AlertNotice, notice_id)
    if link is None:
        raise NotFound("This notice was not started by an alert feed")
    if not is_moderator(actor) or (
        link.region_id is not None and not in_scope(session, actor, [link.region_id])
    ):
        raise Forbidden("This notice is outside your regions")
    if link.pinned != pinned:
        session.add(
            AuditEntry(
                id=uuid.uuid4(),
                at=now or utcnow(),
                entity_type="notice",
                entity_id=notice_id,
                entity_version=None,
                action="pin" if pinned else "unpin",
                author_id=actor.id,
                approver_id=actor.id,
                changes={"pinned": [link.pinned, pinned]},
                snapshot=None,
            )
        )
        link.pinned = pinned
        session.flush()
    return link


def recent_messages(session: Session, *, limit: int = 20) -> list[AlertMessage]:
    """The newest messages the watcher received, whatever became of them."""
    return list(
        session.scalars(select(AlertMessage).order_by(AlertMessage.received_at.desc()).limit(limit))
    )
