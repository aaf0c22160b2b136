"""Revert: a new, audited change restoring a record's values at an earlier version."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.accounts.service import is_moderator
from directory.db import utcnow
from directory.errors import Forbidden, NotFound, PreconditionFailed, ValidationFailed
from directory.moderation.apply import _apply, _Stale
from directory.moderation.audit import snapshot
from directory.moderation.diff import NEVER_CONFLICTS
from directory.moderation.fields import FIELDS, VIRTUAL_FIELDS
from directory.moderation.guard import needs_second_person
from directory.moderation.models import AuditEntry, ChangeKind, ChangeRequest
from directory.moderation.scopes import _places, _region_of, _service_of
from directory.moderation.validation import _model


def revert(
    session: Session,
    *,
    actor: Account,
    entity_type: str,
    entity_id: uuid.UUID,
    to_version: int,
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> ChangeRequest:
    """Restore a record's fields and translations as they were at `to_version`, as a new
    audited change (the fraud guard still applies to contact and whereabouts)."""
    model = _model(entity_type)
    if not is_moderator(actor):
        raise Forbidden("Only moderators revert")
    record = session.get(model, entity_id)
    if record is None:
        raise NotFound(f"No such {entity_type}")
    if not 1 <= to_version < record.version:
        raise ValidationFailed(
            [
                {
                    "path": "to_version",
                    "code": "bad_version",
                    "message": f"must be an earlier version (1 to {record.version - 1})",
                }
            ]
        )
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == entity_type,
                AuditEntry.entity_id == entity_id,
                AuditEntry.entity_version > to_version,
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.entity_version.desc())
        )
    )
    specs = FIELDS[entity_type]
    fields_out: dict[str, Any] = {}
    texts: dict[str, dict[str, Any]] = {}
    archived: Any = "unchanged"
    # Walk back from now: the oldest "before" value of each field is its value at to_version.
    for entry in entries:
        for key, pair in (entry.changes or {}).items():
            before = pair[0]
            if "@" in key:
                name, locale = key.split("@", 1)
                texts.setdefault(name, {})[locale] = before
            elif key == "archived_at":
                archived = before
            elif key in NEVER_CONFLICTS:
                continue  # bookkeeping and verification are not reverted: facts, not edits
            elif (key in specs and key not in VIRTUAL_FIELDS) or key == "categories":
                fields_out[key] = before
    current = snapshot(session, entity_type, record)
    fields_out = {k: v for k, v in fields_out.items() if k == "categories" or current.get(k) != v}
    cr = ChangeRequest(
        id=uuid.uuid4(),
        kind=ChangeKind.revert,
        entity_type=entity_type,
        entity_id=entity_id,
        base_version=record.version,
        payload={
            "fields": fields_out,
            "translations": texts,
            "to_version": to_version,
            "archived_at": archived,
        },
        comment=(comment or f"Revert to version {to_version}")[:5000],
        author_id=actor.id,
        source="api",
        sensitive=needs_second_person(
            session,
            entity_type=entity_type,
            kind=ChangeKind.revert,
            record=record,
            cleaned=fields_out,
            texts=texts,
            archiving=None if archived == "unchanged" else archived is not None,
        ),
        region_id=_region_of(session, _places(session, entity_type, record, {})),
        service_id=_service_of(session, entity_type, entity_id, record, {}),
    )
    if not (fields_out or texts or archived != "unchanged"):
        raise ValidationFailed(
            [
                {
                    "path": "to_version",
                    "code": "nothing_to_change",
                    "message": "nothing differs from that version",
                }
            ]
        )
    session.add(cr)
    session.flush()
    if not cr.sensitive:
        try:
            _apply(session, cr, approver=actor, now=now or utcnow())
        except _Stale as exc:
            raise PreconditionFailed(
                "Changed by someone else meanwhile", current_version=exc.current
            ) from None
    return cr
