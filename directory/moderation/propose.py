"""Proposing a change (`propose`) or a new listing as one group (`propose_group`): the
rules of who may propose what, and when a proposal is applied at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account, Role
from directory.accounts.service import in_scope, is_moderator, region_ids
from directory.db import utcnow
from directory.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from directory.moderation.apply import _apply, _Stale
from directory.moderation.fields import SENSITIVE_CREATE
from directory.moderation.groups import GroupRecord, _apply_group, _share_group_facts, group_of
from directory.moderation.guard import needs_second_person
from directory.moderation.models import ChangeKind, ChangeRequest, ChangeState
from directory.moderation.scopes import _places, _region_of, _service_of
from directory.moderation.validation import _kind, _model, _validate

#: Kinds a trusted volunteer may publish at once (when the admin setting allows it).
QUICK_KINDS = frozenset({ChangeKind.status, ChangeKind.capacity})

#: Kinds only moderators may make.
MODERATOR_KINDS = frozenset({ChangeKind.verify, ChangeKind.revert})

#: Record types only moderators and admins may change (notices speak for the directory).
MODERATOR_TYPES = frozenset({"notice"})

#: The change-request source of an official alert feed (`directory.alerts`): it may start, update
#: and end notices without an account; the audit shows the feed as the author.
FEED_SOURCE = "alerts"


def propose(
    session: Session,
    *,
    actor: Account | None,
    entity_type: str,
    kind: ChangeKind | str,
    entity_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    base_version: int | None = None,
    comment: str | None = None,
    source: str = "api",
    trusted_publish: bool = False,
    now: dt.datetime | None = None,
    group_id: uuid.UUID | None = None,
) -> ChangeRequest:
    """Record a proposed change and, where the rules allow, apply it at once. See module doc.

    With `group_id`, the change joins a group (a new listing): it must be a create, it may
    refer to records that other pending creates of the same group will make, and it is never
    applied on its own — the group is approved or rejected as one (`approve`, `reject`;
    `propose_group` proposes a whole group and applies it at once for a moderator)."""
    now = now or utcnow()
    kind = _kind(kind)
    model = _model(entity_type)
    pending: frozenset[uuid.UUID] = frozenset()
    if group_id is not None:
        if kind != ChangeKind.create:
            raise ValidationFailed(
                [
                    {
                        "path": "kind",
                        "code": "not_groupable",
                        "message": "only new records are proposed as a group",
                    }
                ]
            )
        pending = frozenset(
            session.scalars(
                select(ChangeRequest.entity_id).where(
                    ChangeRequest.group_id == group_id,
                    ChangeRequest.state == ChangeState.pending,
                    ChangeRequest.kind == ChangeKind.create,
                )
            )
        )
    if "assured_date" in (changes or {}) and actor is not None and not is_moderator(actor):
        raise Forbidden("Only moderators verify listings")
    if actor is not None and actor.disabled:
        raise Forbidden("This account is disabled")
    # Without an account only the importer proposes, and an official alert feed writes notices.
    feed_notice = actor is None and source == FEED_SOURCE and entity_type == "notice"
    if actor is None and source != "import" and not feed_notice:
        raise Forbidden("Changes need an account")
    if (
        (kind in MODERATOR_KINDS or entity_type in MODERATOR_TYPES)
        and not is_moderator(actor)
        and not feed_notice
    ):
        raise Forbidden("Only moderators may make this change")
    if kind == ChangeKind.verify and entity_type != "service":
        raise ValidationFailed(
            [{"path": "kind", "code": "not_verifiable", "message": "only services are verified"}]
        )

    record = None
    if kind == ChangeKind.create:
        entity_id = entity_id or uuid.uuid4()
        if session.get(model, entity_id) is not None:
            raise Conflict("A record with this id exists")
    else:
        if entity_id is None:
            raise NotFound(f"No such {entity_type}")
        record = session.get(model, entity_id)
        if record is None:
            raise NotFound(f"No such {entity_type}")
        if base_version is not None and record.version != base_version:
            raise PreconditionFailed(
                f"The {entity_type} changed since version {base_version}; "
                f"it is now at version {record.version}",
                current_version=record.version,
            )
        base_version = record.version

    # Scope first (on where the record is now), so that nobody learns more than "forbidden".
    if (
        actor is not None
        and record is not None
        and not in_scope(session, actor, _places(session, entity_type, record, {}))
    ):
        raise Forbidden("This record is outside your regions")
    fields_in = dict(changes or {})
    cleaned, texts = _validate(
        session, entity_type, kind, record, fields_in, translations or {}, now=now, pending=pending
    )
    places = _places(session, entity_type, record, cleaned)
    if actor is not None and not in_scope(session, actor, places):
        raise Forbidden("This record is outside your regions")
    if (
        entity_type == "notice"
        and actor is not None
        and actor.role != Role.admin
        and not any(places)
        and region_ids(session, actor)
    ):
        # A nationwide notice speaks for every region: not for a moderator of some of them.
        raise Forbidden("Only accounts for every region change nationwide notices")

    sensitive = needs_second_person(
        session, entity_type=entity_type, kind=kind, record=record, cleaned=cleaned, texts=texts
    )
    if group_id is not None and entity_type in SENSITIVE_CREATE:
        # Fraud guard: the contact details and address of a new listing are checked by a
        # moderator other than the author, like those added to a published one.
        sensitive = True
    cr = ChangeRequest(
        id=uuid.uuid4(),
        kind=kind,
        entity_type=entity_type,
        entity_id=entity_id,
        base_version=base_version,
        payload={"fields": cleaned, "translations": texts},
        comment=(comment or "").strip()[:5000] or None,
        state=ChangeState.pending,
        author_id=actor.id if actor else None,
        source=source[:20],
        sensitive=sensitive,
        region_id=_region_of(session, places),
        service_id=_service_of(session, entity_type, entity_id, record, cleaned),
        created_at=now,
        updated_at=now,
        group_id=group_id,
    )
    session.add(cr)
    session.flush()
    if group_id is not None:
        _share_group_facts(session, cr)
        return cr

    try:
        if feed_notice:  # the feed's own notices publish at once, audited as the feed's doing
            _apply(session, cr, approver=None, now=now)
        elif actor is not None and not sensitive:
            if is_moderator(actor):
                _apply(session, cr, approver=actor, now=now)
            elif kind in QUICK_KINDS and actor.trusted and trusted_publish:
                cr.needs_review = True
                _apply(session, cr, approver=None, now=now)
    except _Stale as exc:
        raise PreconditionFailed(
            f"The {entity_type} was changed by someone else meanwhile"
            + (f"; it is now at version {exc.current}" if exc.current else ""),
            current_version=exc.current,
        ) from None
    return cr


def propose_group(
    session: Session,
    *,
    actor: Account | None,
    records: list[GroupRecord],
    comment: str | None = None,
    source: str = "api",
    now: dt.datetime | None = None,
) -> list[ChangeRequest]:
    """Propose a new listing — records that refer to each other (organisation, service, place,
    address, phones, hours ...) — as one group of pending creates, in the order given (parents
    first). Validation errors carry the record's index (`records/2/number`). A moderator's group
    is applied at once unless the fraud guard holds it (an address or phone: another moderator
    approves); a volunteer's (or an import's) waits for a moderator, who approves or rejects it
    as one. All or nothing: a refusal leaves nothing behind."""
    now = now or utcnow()
    if not records:
        raise ValidationFailed(
            [{"path": "records", "code": "nothing_to_change", "message": "nothing to propose"}]
        )
    group_id = uuid.uuid4()
    out: list[ChangeRequest] = []
    with session.begin_nested():
        for i, rec in enumerate(records):
            try:
                out.append(
                    propose(
                        session,
                        actor=actor,
                        entity_type=rec.entity_type,
                        kind=ChangeKind.create,
                        entity_id=rec.entity_id,
                        changes=rec.changes,
                        translations=rec.translations,
                        comment=comment,
                        source=source,
                        now=now,
                        group_id=group_id,
                    )
                )
            except ValidationFailed as exc:
                raise ValidationFailed(
                    [{**e, "path": f"records/{i}/{e.get('path', '')}"} for e in exc.errors]
                ) from None
        if actor is not None and is_moderator(actor) and not any(cr.sensitive for cr in out):
            _apply_group(session, group_of(session, change=out[0]), approver=actor, now=now)
    return out
