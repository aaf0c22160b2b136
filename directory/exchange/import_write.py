"""Writing compared records through the moderation write path, one change request per
record (imports without `--publish`; `--apply --publish` goes through `bulk_import`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from directory.exchange.import_changes import RecordWrite, bundle_changes
from directory.exchange.import_records import Bundle, Rec
from directory.exchange.import_report import Problem, Report


class ApplyFailed(Exception):
    """A write was refused by the write path: the whole import is rolled back."""


def held_by_guard(
    sensitive: bool,
    entity_type: str,
    kind: str,
    changes: dict[str, Any] | None,
    created: set[uuid.UUID],
) -> bool:
    """Publishing an import, does this change wait for a second moderator? Only when the fraud
    guard marks it (`moderation.guard`) and it touches what existed before the import: a change
    to an existing record, or a new phone or address of an existing listing. New listings of
    the file (a new service of an existing organisation included) are the publishing admin's."""
    from directory.moderation.fields import SENSITIVE_CREATE

    if not sensitive:
        return False
    if kind != "create":
        return True
    if entity_type not in SENSITIVE_CREATE:
        return False
    parents = [
        v
        for k, v in (changes or {}).items()
        if k in ("organization_id", "service_id", "location_id") and v
    ]
    return any(uuid.UUID(str(v)) not in created for v in parents)


class Writer:
    """Turns compared bundles into change requests, pending for moderators.

    The new records of a listing (organisation, service, places and their
    children) are proposed as ONE group of change requests (`moderation.propose(group_id=)`):
    they may refer to each other while pending, and a moderator approves or rejects the new
    listing as a whole. A bundle whose new records refer to records of an earlier bundle's group
    (a second service of the same new organisation) joins that group.

    A subclass decides otherwise what happens to each proposal (`proposed`); the tests keep one
    that approves at once, the former per-record publish, to compare with `bulk_import`."""

    #: new records of a listing are proposed as one group
    grouped = True

    def __init__(self, session: Session, *, report: Report, comment: str) -> None:
        self.session = session
        self.report = report
        self.comment = comment
        self.touched: set[uuid.UUID] = set()
        self.created_locations: set[uuid.UUID] = set()
        self.group: uuid.UUID | None = None  # the group of the bundle being written
        self._group_of: dict[uuid.UUID, uuid.UUID] = {}  # pending new record id → its group
        self._groups: set[uuid.UUID] = set()  # the groups proposed (report.groups)
        self.created: set[uuid.UUID] = set()  # records this import creates

    def _propose(
        self,
        rec: Rec,
        kind: str,
        *,
        entity_id: uuid.UUID,
        changes: dict[str, Any] | None = None,
        translations: dict[str, dict[str, str]] | None = None,
        base_version: int | None = None,
    ) -> None:
        from directory.errors import DomainError, ValidationFailed
        from directory.moderation import service as moderation

        group = self.group if kind == "create" else None
        try:
            cr = moderation.propose(
                self.session,
                actor=None,
                entity_type=rec.entity,
                kind=kind,
                entity_id=entity_id,
                changes=changes,
                translations=translations or None,
                base_version=base_version,
                comment=self.comment,
                source="import",
                group_id=group,
            )
            if group is not None:
                if group not in self._groups:
                    self._groups.add(group)
                    self.report.groups += 1  # a new listing's first record
                self._group_of[entity_id] = group
            if kind == "create":
                self.created.add(entity_id)
            self.report.change_requests += 1
            self.proposed(cr, rec, kind, changes)
        except ValidationFailed as exc:
            for e in exc.errors:
                self.report.error(
                    Problem(rec.file, rec.line, rec.path, e.get("path", ""), e.get("message", ""))
                )
            raise ApplyFailed(str(exc)) from None
        except DomainError as exc:
            self.report.error(Problem(rec.file, rec.line, rec.path, "", exc.detail))
            raise ApplyFailed(exc.detail) from None

    def proposed(self, cr: Any, rec: Rec, kind: str, changes: dict[str, Any] | None) -> None:
        """A change request was proposed: it waits for a moderator."""
        self.report.pending += 1

    def _choose_group(self, b: Bundle) -> uuid.UUID | None:
        """Without publish: the group for this bundle's new records (None when it has none)."""
        new = [
            r
            for r in (b.organization, b.service, *b.locations, *b.children)
            if r is not None and r.state == "new"
        ]
        if not self.grouped or not new:
            return None
        refs = {
            uuid.UUID(v)
            for r in new
            for k, v in r.payload.items()
            if k in ("organization_id", "service_id", "location_id") and isinstance(v, str)
        }
        refs |= {s for _, s in b.new_links}
        joined = next((self._group_of[i] for i in refs if i in self._group_of), None)
        if joined is not None:
            return joined
        return (
            uuid.uuid4() if len(new) > 1 else None
        )  # one new record (a phone) is a change of its own

    def apply(self, b: Bundle) -> None:
        self.group = self._choose_group(b)
        try:
            self._apply(b)
        finally:
            self.group = None

    def _apply(self, b: Bundle) -> None:
        self.touched.add(b.service.existing_id or b.service.id)
        for w in bundle_changes(b, self.created_locations):
            if isinstance(w, RecordWrite):
                self._propose(
                    w.rec,
                    w.kind,
                    entity_id=w.entity_id,
                    changes=w.changes,
                    translations=w.translations,
                )
            else:
                self.report.warn(w)
