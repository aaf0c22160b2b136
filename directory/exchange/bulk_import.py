"""`import --apply --publish`: compared bundles → the set-based write path
(`directory.moderation.bulk.BulkPublisher`), batch by batch, in the import's savepoint.

Decides the same changes as the per-record publish kept in `tests/exchange/per_record.py` (new
records are created, changed ones updated — restored first if archived —, records no longer in
the file archived, new places linked to their services), but hands them to the bulk writer, which
validates them with the write path's rules and writes each batch with a few statements. Each
service bundle is one approved change request; every record written has its audit entry.
Generic over `Rec.entity`: any record type of `moderation.fields.FIELDS` goes through.

The fraud guard (`moderation.guard`) holds what it marks on records that existed before the
import (a changed phone, a number written into a description, an archived address): those are
not written in bulk but proposed by the publishing admin, for another moderator to approve.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from directory.moderation.bulk import BulkPublisher, BulkRefused

if TYPE_CHECKING:
    from directory.exchange.importer import Bundle, Rec, Report


class BulkImport:
    def __init__(
        self, session: Session, *, actor: Any, report: Report, comment: str, now: dt.datetime
    ) -> None:
        self.report = report
        self.session, self.actor, self.comment, self.now = session, actor, comment, now
        self.publisher = BulkPublisher(
            session, approver=actor, comment=comment, source="import", now=now
        )
        self.created: set[Any] = set()  # records this import creates
        # (entity, kind, id, changes, translations, base_version, rec) the guard holds
        self.held: list[
            tuple[
                str,
                str,
                Any,
                dict[str, Any] | None,
                dict[str, dict[str, str]] | None,
                int | None,
                Rec,
            ]
        ] = []

    @property
    def change_requests(self) -> int:
        return self.publisher.change_requests

    def _add(
        self,
        rec: Rec,
        kind: str,
        entity_id: Any,
        group: Any,
        *,
        changes: dict[str, Any] | None = None,
        translations: dict[str, dict[str, str]] | None = None,
        base_version: int | None = None,
    ) -> None:
        if kind == "create":
            self.created.add(entity_id)
        if self._guarded(rec.entity, kind, entity_id, changes, translations):
            self.held.append(
                (rec.entity, kind, entity_id, changes, translations, base_version, rec)
            )
            return
        self.publisher.add(
            rec.entity,
            kind,
            entity_id,
            group=group,
            fields=changes,
            translations=translations,
            base_version=base_version,
            tag=rec,
            cleaned=True,
        )

    def add_bundle(self, b: Bundle) -> None:
        from directory.exchange.import_changes import RecordWrite, bundle_changes

        group = b.service.existing_id or b.service.id
        for w in bundle_changes(b, set()):
            if isinstance(w, RecordWrite):
                self._add(
                    w.rec,
                    w.kind,
                    w.entity_id,
                    group,
                    changes=w.changes,
                    translations=w.translations,
                    base_version=w.base_version,
                )
            else:
                self.report.warn(w)

    def apply(self, bundles: list[Bundle]) -> None:
        """Validate and write one batch (ApplyFailed with the errors in the report on refusal)."""
        from directory.exchange.importer import ApplyFailed, Problem

        try:
            for b in bundles:
                if b.service.state != "duplicate":
                    self.add_bundle(b)
            self.publisher.flush()
        except BulkRefused as exc:
            rec = exc.tag
            for e in exc.errors:
                if rec is not None:
                    self.report.error(
                        Problem(
                            rec.file, rec.line, rec.path, e.get("path", ""), e.get("message", "")
                        )
                    )
                else:
                    self.report.error(
                        Problem(self.report.file, None, "", e.get("path", ""), e.get("message", ""))
                    )
            raise ApplyFailed(str(exc)) from None

    def _guarded(
        self,
        entity: str,
        kind: str,
        entity_id: Any,
        changes: dict[str, Any] | None,
        translations: dict[str, dict[str, str]] | None,
    ) -> bool:
        """Does the fraud guard hold this change of a record that existed before the import?"""
        from directory.exchange.importer import held_by_guard
        from directory.moderation.fields import MODELS
        from directory.moderation.guard import needs_second_person
        from directory.moderation.models import ChangeKind

        if kind == "create":
            if not held_by_guard(True, entity, kind, changes, self.created):
                return False
            record = None
        else:
            record = self.session.get(MODELS[entity], entity_id)
            if record is None:
                return False
        return needs_second_person(
            self.session,
            entity_type=entity,
            kind=ChangeKind(kind),
            record=record,
            cleaned=changes or {},
            texts=translations,
        )

    def finish(self) -> None:
        """Propose what the guard held (the admin is its author: another moderator approves
        it), then reindex what was written."""
        from directory.errors import DomainError, ValidationFailed
        from directory.exchange.importer import ApplyFailed, Problem
        from directory.moderation import service as moderation

        for entity, kind, entity_id, changes, texts, base_version, rec in self.held:
            try:
                moderation.propose(
                    self.session,
                    actor=self.actor,
                    entity_type=entity,
                    kind=kind,
                    entity_id=entity_id,
                    changes=changes,
                    translations=texts or None,
                    base_version=base_version,
                    comment=self.comment,
                    source="import",
                    now=self.now,
                )
            except ValidationFailed as exc:
                for e in exc.errors:
                    self.report.error(
                        Problem(
                            rec.file, rec.line, rec.path, e.get("path", ""), e.get("message", "")
                        )
                    )
                raise ApplyFailed(str(exc)) from None
            except DomainError as exc:
                self.report.error(Problem(rec.file, rec.line, rec.path, "", exc.detail))
                raise ApplyFailed(exc.detail) from None
            self.report.held += 1
            self.report.pending += 1
        self.held.clear()
        self.publisher.finish()
