"""Diffs of a change (pending: against the published record; applied: from the audit log) and
the three-way merge's conflicts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.moderation import consistency
from directory.moderation.fields import SENSITIVE, VIRTUAL_FIELDS, dump
from directory.moderation.models import AuditEntry, ChangeKind, ChangeRequest, ChangeState
from directory.moderation.validation import _record


@dataclass(frozen=True)
class FieldChange:
    """One line of a diff: `field` (with `locale` for a translation), published vs proposed."""

    field: str
    current: Any
    proposed: Any
    locale: str | None = None
    sensitive: bool = False
    #: set on a line about another record the change implies (consistency.py): its type and id
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None


def diff(session: Session, *, change: ChangeRequest) -> list[FieldChange]:
    """Field by field (translations included): the published value and the proposed one, then
    what the change implies for linked records (a full service's free places, ...). Once the
    change is applied, what it did (from the audit log): before and after, never a proposal
    compared with itself."""
    if change.state == ChangeState.approved:
        done = _diff_applied(session, change)
        if done:
            return done
    return _diff_pending(session, change)


#: Bookkeeping an applied change writes besides its fields (not lines of its diff).
_NOT_IN_DIFF = frozenset({"updated_at", "version", "capacity_updated", "status_since"})


def _diff_applied(session: Session, change: ChangeRequest) -> list[FieldChange]:
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.change_request_id == change.id)
            .order_by(AuditEntry.at, AuditEntry.entity_version)
        )
    )
    out: list[FieldChange] = []
    for entry in entries:
        own = entry.entity_type == change.entity_type and entry.entity_id == change.entity_id
        if (
            not own
            and entry.entity_type == "service"
            and set(entry.changes or {}) <= {"assured_date"}
        ):
            continue  # the other services a capacity approval verified
        sensitive = SENSITIVE.get(entry.entity_type, frozenset())
        for key, pair in (entry.changes or {}).items():
            name, _, locale = key.partition("@")
            if name in _NOT_IN_DIFF or not isinstance(pair, list) or len(pair) != 2:
                continue
            out.append(
                FieldChange(
                    field=name,
                    locale=locale or None,
                    current=pair[0],
                    proposed=pair[1],
                    sensitive=name in sensitive,
                    entity_type=None if own else entry.entity_type,
                    entity_id=None if own else entry.entity_id,
                )
            )
    return out


def _diff_pending(session: Session, change: ChangeRequest) -> list[FieldChange]:
    record = _record(session, change)
    sensitive = SENSITIVE.get(change.entity_type, frozenset())
    out: list[FieldChange] = []
    for name, value in change.payload.get("fields", {}).items():
        if name == "categories":
            current: Any = _categories(session, change.entity_id) if record is not None else None
        elif name in VIRTUAL_FIELDS:
            current = None
        else:
            current = dump(getattr(record, name)) if record is not None else None
        out.append(
            FieldChange(field=name, current=current, proposed=value, sensitive=name in sensitive)
        )
    source = getattr(record, "source_locale", None)
    for name, per_locale in change.payload.get("translations", {}).items():
        for locale, value in per_locale.items():
            if record is not None and locale == source:
                current = dump(getattr(record, name))
            else:
                current = session.scalar(
                    select(m.Translation.value).where(
                        m.Translation.entity_type == change.entity_type,
                        m.Translation.entity_id == change.entity_id,
                        m.Translation.field == name,
                        m.Translation.locale == locale,
                    )
                )
            out.append(FieldChange(field=name, locale=locale, current=current, proposed=value))
    if change.kind in (ChangeKind.archive, ChangeKind.restore) and record is not None:
        out.append(
            FieldChange(
                field="archived",
                current=record.archived_at is not None,
                proposed=change.kind == ChangeKind.archive,
            )
        )
    if change.kind == ChangeKind.verify and record is not None:
        out.append(
            FieldChange(field="assured_date", current=dump(record.assured_date), proposed="now")
        )
    if change.state == ChangeState.pending:
        for it in consistency.implied(
            session, change.entity_type, change.entity_id, change.payload.get("fields", {})
        ):
            out += [
                FieldChange(
                    field=name,
                    current=it.current.get(name),
                    proposed=value,
                    entity_type=it.entity_type,
                    entity_id=it.entity_id,
                )
                for name, value in it.fields.items()
            ]
    return out


#: Audit keys that never make a conflict: bookkeeping and verification (approving a capacity
#: update verifies the listing; that must not block the next proposal for it).
NEVER_CONFLICTS = frozenset(
    {"updated_at", "version", "assured_date", "assurer_email", "capacity_updated", "status_since"}
)


def _conflicts(
    session: Session, cr: ChangeRequest, record: Any, since: list[AuditEntry]
) -> list[dict[str, Any]]:
    """Three-way merge on fields for a proposal whose record moved on since `base_version`.

    The audit log holds, per published change, each field's before/after (translations as
    `field@locale`; a text in the record's source locale is its column, `field`). A field the
    proposal touches conflicts when it was changed since and now differs from the proposed
    value. When the log cannot account for the record's current version (no record, or a
    write that left no audit entry), everything the proposal touches is a conflict.
    Returns [{"field", "locale"}] (empty: safe to apply on the current record)."""
    lines = [d for d in diff(session, change=cr) if d.entity_type is None]  # its own record
    if (
        cr.kind == ChangeKind.status
        and cr.payload.get("fields", {}).get("status") == m.ServiceStatus.active.value
    ):
        # Back to active clears the reason and the end date it does not set itself.
        fields_in = cr.payload.get("fields", {})
        lines += [
            FieldChange(field=name, current=dump(getattr(record, name, None)), proposed=None)
            for name in ("status_reason", "status_reason_code", "status_until")
            if name not in fields_in
        ]
    everything = [{"field": d.field, "locale": d.locale} for d in lines] or [
        {"field": "version", "locale": None}
    ]
    if record is None or max((a.entity_version or 0 for a in since), default=0) != record.version:
        return everything
    changed: set[str] = set()
    for entry in since:
        changed |= {k for k in (entry.changes or {}) if k not in NEVER_CONFLICTS}
    if "source_locale" in changed and cr.payload.get("translations"):
        return everything  # which text is the column and which a translation row has moved
    source = getattr(record, "source_locale", None)
    out: list[dict[str, Any]] = []
    for d in lines:
        if d.field == "assured_date":
            continue  # verify: never a conflict
        if d.field == "archived":
            key = "archived_at"
        elif d.locale is None or d.locale == source:
            key = d.field
        else:
            key = f"{d.field}@{d.locale}"
        if key in changed and d.current != d.proposed:
            out.append({"field": d.field, "locale": d.locale})
    if (
        cr.kind == ChangeKind.revert
        and "archived_at" in changed
        and cr.payload.get("archived_at", "unchanged") != "unchanged"
    ):
        out.append({"field": "archived", "locale": None})
    return out


def _diff_json(d: FieldChange) -> dict[str, Any]:
    out = {
        "field": d.field,
        "locale": d.locale,
        "current": d.current,
        "proposed": d.proposed,
        "sensitive": d.sensitive,
    }
    if d.entity_type is not None:  # a line about another record the change implies
        out |= {"entity_type": d.entity_type, "entity_id": str(d.entity_id)}
    return out


def _categories(session: Session, service_id: uuid.UUID) -> list[str]:
    return sorted(
        session.scalars(
            select(m.TaxonomyTerm.code)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == service_id, m.Attribute.link_entity == "service")
        )
    )


def _audit_since(session: Session, cr: ChangeRequest) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == cr.entity_type,
                AuditEntry.entity_id == cr.entity_id,
                AuditEntry.entity_version > (cr.base_version or 0),
            )
            .order_by(AuditEntry.at)
        )
    )
