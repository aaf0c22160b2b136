"""Applying an approved change: the record, its translations and categories, the changes it
implies for linked records (consistency.py), verification, the audit entries, and the
reindex (or its deferral for bulk writers: `deferred_reindex`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from directory.accounts.models import Account
from directory.errors import NotFound
from directory.listings import models as m
from directory.listings.taxonomy import services_with_term
from directory.moderation import consistency
from directory.moderation.audit import snapshot
from directory.moderation.fields import FIELDS, MODELS, dump, load
from directory.moderation.models import AuditEntry, ChangeKind, ChangeRequest, ChangeState
from directory.moderation.plan import category_changes, record_change, text_changes


def _apply(
    session: Session, cr: ChangeRequest, *, approver: Account | None, now: dt.datetime
) -> None:
    """Write the change to the record and the audit log, in one savepoint, version-checked."""
    model = MODELS[cr.entity_type]
    fields_in: dict[str, Any] = dict(cr.payload.get("fields", {}))
    texts: dict[str, dict[str, Any]] = {
        n: dict(per) for n, per in cr.payload.get("translations", {}).items()
    }
    changes: dict[str, list[Any]] = {}
    touched_services: set[uuid.UUID] = set()

    try:
        with session.begin_nested():
            if cr.kind == ChangeKind.create:
                record = model(id=cr.entity_id)
                session.add(record)
            else:
                record = session.get(model, cr.entity_id)
                if record is None:
                    raise NotFound(f"No such {cr.entity_type}")
            # What the change writes is planned once for both writers (plan.py).
            planned = record_change(
                cr.entity_type,
                cr.kind,
                None if cr.kind == ChangeKind.create else record,
                fields_in,
                texts,
                now=now,
                restore_archived=cr.payload.get("archived_at", "unchanged"),
            )
            changes = planned.changes
            source = planned.source_locale
            for name, value in planned.values.items():
                setattr(record, name, value)  # updated_at always: the version moves, is checked
            session.flush()

            for name, per_locale in planned.translations.items():
                for locale, value in per_locale.items():
                    before_t = _set_translation(
                        session, cr.entity_type, record.id, name, locale, value
                    )
                    text_changes(changes, name, locale, before_t, value)
            if cr.entity_type == "service" and cr.kind == ChangeKind.status:
                # A quick status change replaces the reason as a whole, in every language: no old
                # reason lingers in a translation (or the column) beside the new one or a code.
                new_texts = set(cr.payload.get("translations", {}).get("status_reason", {}))
                if (
                    source not in new_texts
                    and "status_reason" not in fields_in
                    and record.status_reason is not None
                ):
                    changes["status_reason"] = [record.status_reason, None]
                    record.status_reason = None
                for locale, before_t in _clear_translations(
                    session, "service", record.id, "status_reason", keep=new_texts
                ):
                    changes[f"status_reason@{locale}"] = [before_t, None]

            if cr.entity_type == "service" and "categories" in fields_in:
                before_codes = _set_categories(session, record.id, fields_in["categories"])
                category_changes(changes, before_codes, fields_in["categories"])
            if cr.entity_type == "location" and fields_in.get("service_ids"):
                for sid in fields_in["service_ids"]:
                    session.add(
                        m.ServiceAtLocation(service_id=uuid.UUID(sid), location_id=record.id)
                    )
                changes["service_ids"] = [None, fields_in["service_ids"]]

            touched_services = _services_touched(session, cr.entity_type, record)
            # Status and capacity in step (consistency.py): the linked records this change implies
            # are written here, in the same savepoint, audited under the same change request.
            linked = _apply_implied(session, cr, fields_in, now=now)
            for other, _changes in linked:
                touched_services |= _services_touched(session, other.__tablename__, other)
            # A moderator's approval of fresh facts from the field verifies the listing
            # (other services at a location get their own audit entry below).
            verified: list[tuple[m.Service, Any]] = []
            if approver is not None and cr.kind in (
                ChangeKind.verify,
                ChangeKind.status,
                ChangeKind.capacity,
            ):
                for sid in sorted(touched_services):
                    svc = session.get(m.Service, sid)
                    if svc is None:
                        continue
                    if svc is record:
                        changes["assured_date"] = [dump(svc.assured_date), now.isoformat()]
                    else:
                        verified.append((svc, dump(svc.assured_date)))
                    svc.assured_date = now
            session.flush()
    except StaleDataError:
        current = session.scalar(
            select(model.version)
            .where(model.id == cr.entity_id)
            .execution_options(populate_existing=True)
        )
        raise _Stale(current) from None

    cr.state = ChangeState.approved
    cr.reviewer_id = approver.id if approver else None
    cr.decided_at = now

    def entry(entity_type: str, rec: Any, action: ChangeKind, changes: dict[str, Any]) -> None:
        session.add(
            AuditEntry(
                at=now,
                entity_type=entity_type,
                entity_id=rec.id,
                entity_version=rec.version,
                action=action.value,
                change_request_id=cr.id,
                author_id=cr.author_id,
                approver_id=approver.id if approver else None,
                changes=changes,
                snapshot=snapshot(session, entity_type, rec),
            )
        )

    entry(cr.entity_type, record, cr.kind, changes)
    for other, other_changes in linked:
        entry(other.__tablename__, other, cr.kind, other_changes)
    for svc, before_date in verified:
        entry("service", svc, ChangeKind.verify, {"assured_date": [before_date, now.isoformat()]})
    session.flush()
    if linked or _changes_search(cr.kind, changes):
        _reindex(session, touched_services)


def _apply_implied(
    session: Session, cr: ChangeRequest, fields_in: dict[str, Any], *, now: dt.datetime
) -> list[tuple[Any, dict[str, list[Any]]]]:
    """Write what `cr` implies for linked records (full → no free places; free places → not
    full); returns each record written with its {field: [before, after]}."""
    out: list[tuple[Any, dict[str, list[Any]]]] = []
    for it in consistency.implied(session, cr.entity_type, cr.entity_id, fields_in):
        model, specs = MODELS[it.entity_type], FIELDS[it.entity_type]
        other = session.get(model, it.entity_id)
        if other is None:
            continue
        changes: dict[str, list[Any]] = {}
        for name, value in it.fields.items():
            before = dump(getattr(other, name))
            if before != value:
                changes[name] = [before, value]
                setattr(other, name, load(specs[name], value))
        if not changes:
            continue
        if it.entity_type == "location":
            changes["capacity_updated"] = [dump(other.capacity_updated), now.isoformat()]
            other.capacity_updated = now
        if it.entity_type == "service" and other.status_since is not None:
            changes["status_since"] = [dump(other.status_since), None]
            other.status_since = None
        other.updated_at = now
        session.flush()
        out.append((other, changes))
    return out


def _changes_search(kind: ChangeKind, changes: dict[str, list[Any]]) -> bool:
    """Whether the search index can see this change. Capacity only matters to the index as
    "has free places" (a facet); a verification not at all. Skipping them keeps the quick
    updates from the field quick."""
    if kind == ChangeKind.verify:
        return False
    if kind == ChangeKind.capacity:
        before, after = changes.get("capacity_available", [None, None])
        return bool(before) != bool(after)
    return True


class _Stale(Exception):
    """The record's version moved between reading and writing (a concurrent change won)."""

    def __init__(self, current: int | None) -> None:
        super().__init__(current)
        self.current = current


def _set_translation(
    session: Session,
    entity_type: str,
    entity_id: uuid.UUID,
    name: str,
    locale: str,
    value: str | None,
) -> str | None:
    """Write (or with None, delete) one translation row; returns the previous text."""
    row = session.scalar(
        select(m.Translation).where(
            m.Translation.entity_type == entity_type,
            m.Translation.entity_id == entity_id,
            m.Translation.field == name,
            m.Translation.locale == locale,
        )
    )
    before = row.value if row is not None else None
    if value is None:
        if row is not None:
            session.delete(row)
    else:
        from directory.listings.texts import set_text

        set_text(
            session,
            entity_type=entity_type,
            entity_id=entity_id,
            field=name,
            locale=locale,
            value=value,
        )
    session.flush()
    return before


def _clear_translations(
    session: Session,
    entity_type: str,
    entity_id: uuid.UUID,
    name: str,
    keep: set[str] | frozenset[str] = frozenset(),
) -> list[tuple[str, str]]:
    """Delete the translations of one field but those in `keep`; returns (locale, text) of
    those deleted."""
    rows = [
        row
        for row in session.scalars(
            select(m.Translation).where(
                m.Translation.entity_type == entity_type,
                m.Translation.entity_id == entity_id,
                m.Translation.field == name,
            )
        )
        if row.locale not in keep
    ]
    for row in rows:
        session.delete(row)
    session.flush()
    return sorted((row.locale, row.value) for row in rows)


def _set_categories(session: Session, service_id: uuid.UUID, codes: list[str]) -> list[str]:
    current = {
        row[0]: row[1]
        for row in session.execute(
            select(m.TaxonomyTerm.code, m.Attribute.id)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == service_id, m.Attribute.link_entity == "service")
        )
    }
    for code, attr_id in current.items():
        if code not in codes:
            session.execute(delete(m.Attribute).where(m.Attribute.id == attr_id))
    for code in codes:
        if code not in current:
            term_id = session.scalar(select(m.TaxonomyTerm.id).where(m.TaxonomyTerm.code == code))
            session.add(
                m.Attribute(
                    link_id=service_id,
                    taxonomy_term_id=term_id,
                    link_type="service",
                    link_entity="service",
                )
            )
    session.flush()
    return sorted(current)


def _services_touched(session: Session, entity_type: str, record: Any) -> set[uuid.UUID]:
    if entity_type == "service":
        return {record.id}
    if entity_type == "location":
        return set(
            session.scalars(
                select(m.ServiceAtLocation.service_id).where(
                    m.ServiceAtLocation.location_id == record.id
                )
            )
        )
    if entity_type == "organization":
        return set(
            session.scalars(select(m.Service.id).where(m.Service.organization_id == record.id))
        )
    if entity_type == "taxonomy_term":
        return services_with_term(session, record.id)
    out: set[uuid.UUID] = set()
    if getattr(record, "service_id", None):
        out.add(record.service_id)
    if getattr(record, "location_id", None):
        out |= set(
            session.scalars(
                select(m.ServiceAtLocation.service_id).where(
                    m.ServiceAtLocation.location_id == record.location_id
                )
            )
        )
    return out


_DEFERRED = "directory.moderation.deferred_reindex"


@contextmanager
def deferred_reindex(session: Session) -> Iterator[set[uuid.UUID]]:
    """Inside this block, applied changes do not reindex their services one change at a time:
    the ids are collected in the yielded set and the caller MUST call
    `directory.search.index.reindex_services(session, ids)` for them (once, set-based) before
    it commits. Everything else (validation, version checks, audit entries) is unchanged. For
    bulk writers such as the importer; nests (an inner block collects into its own set)."""
    outer = session.info.get(_DEFERRED)
    collected: set[uuid.UUID] = set()
    session.info[_DEFERRED] = collected
    try:
        yield collected
    finally:
        if outer is None:
            session.info.pop(_DEFERRED, None)
        else:
            session.info[_DEFERRED] = outer


def _reindex(session: Session, service_ids: set[uuid.UUID]) -> None:
    if not service_ids:
        return
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.update(service_ids)
        return
    try:
        from directory.search.index import reindex_services
    except ImportError:  # the search index is not installed yet
        return
    reindex_services(session, sorted(service_ids))
