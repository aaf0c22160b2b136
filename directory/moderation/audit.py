"""The audit log: the snapshot stored with each entry, reading the log, authors' names."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.accounts.service import is_moderator
from directory.errors import Forbidden
from directory.listings import models as m
from directory.moderation.fields import dump
from directory.moderation.models import AuditEntry
from directory.moderation.plan import snapshot_of


def snapshot(session: Session, entity_type: str, record: Any) -> dict[str, Any]:
    """The record's editable fields and translations as JSON (stored with each audit entry)."""
    rows = session.execute(
        select(m.Translation.field, m.Translation.locale, m.Translation.value).where(
            m.Translation.entity_type == entity_type, m.Translation.entity_id == record.id
        )
    )
    return snapshot_of(
        entity_type,
        lambda name: dump(getattr(record, name)),
        archived_at=dump(record.archived_at),
        version=record.version,
        translations={f"{f}@{loc}": v for f, loc, v in rows},
    )


def audit(
    session: Session,
    *,
    viewer: Account,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    limit: int = 100,
    before: dt.datetime | None = None,
) -> list[AuditEntry]:
    """The audit log, newest first, for one record or overall. Moderators only."""
    if not is_moderator(viewer):
        raise Forbidden("Only moderators read the audit log")
    stmt = select(AuditEntry)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if before:
        stmt = stmt.where(AuditEntry.at < before)
    return list(
        session.scalars(
            stmt.order_by(AuditEntry.at.desc(), AuditEntry.entity_version.desc()).limit(limit)
        )
    )


def account_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names for authors/reviewers (moderator views; never emails)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Account.id, Account.display_name).where(Account.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}
