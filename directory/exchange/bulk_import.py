"""`import --apply --publish`: compared bundles → the set-based write path
(`directory.moderation.bulk.BulkPublisher`), batch by batch, in the import's savepoint.

Decides the same changes as the per-record `importer.Writer` with `publish` (new records are
created, changed ones updated — restored first if archived —, records no longer in the file
archived, new places linked to their services), but hands them to the bulk writer, which
validates them with the write path's rules and writes each batch with a few statements. Each
service bundle is one approved change request; every record written has its audit entry.
Generic over `Rec.entity`: any record type of `moderation.fields.FIELDS` goes through.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from directory.moderation.bulk import BulkPublisher, BulkRefused

if TYPE_CHECKING:
    from directory.exchange.importer import Bundle, Rec, Report


class BulkImport:
    def __init__(self, session: Session, *, actor: Any, report: Report, comment: str, now: dt.datetime) -> None:
        self.report = report
        self.publisher = BulkPublisher(session, approver=actor, comment=comment, source="import", now=now)

    @property
    def change_requests(self) -> int:
        return self.publisher.change_requests

    def _add(self, rec: Rec, kind: str, entity_id: Any, group: Any, *, changes: dict[str, Any] | None = None,
             translations: dict[str, dict[str, str]] | None = None, base_version: int | None = None) -> None:
        self.publisher.add(rec.entity, kind, entity_id, group=group, fields=changes, translations=translations,
                           base_version=base_version, tag=rec, cleaned=True)

    def _write(self, rec: Rec, group: Any, extra: dict[str, Any] | None = None) -> None:
        if rec.state == "new":
            self._add(rec, "create", rec.id, group, changes={**rec.fields(), **(extra or {})},
                      translations=rec.translations)
        elif rec.state == "changed" and rec.existing_id is not None:
            if "archived_at" in rec.changed_fields:
                self._add(rec, "restore", rec.existing_id, group, base_version=rec.base_version)
            changes, texts = rec.changes()
            if changes or texts:
                self._add(rec, "update", rec.existing_id, group, changes=changes, translations=texts,
                          base_version=None if "archived_at" in rec.changed_fields else rec.base_version)

    def add_bundle(self, b: Bundle) -> None:
        from directory.exchange.importer import Problem, Rec

        group = b.service.existing_id or b.service.id
        if b.organization is not None and b.organization.state in ("new", "changed"):
            self._write(b.organization, group)
        if b.service.state in ("new", "changed"):
            self._write(b.service, group)
        created = set()
        for loc in b.locations:
            if loc.state == "new":
                services = sorted({str(s) for lid, s in b.new_links if lid == loc.id})
                self._write(loc, group, {"service_ids": services})
                created.add(loc.id)
            elif loc.state == "changed":
                self._write(loc, group)
        for lid, s in b.new_links:
            if lid not in created:
                self.report.warn(Problem(b.service.file, b.service.line, b.service.path, "service_at_locations",
                                         f"service {s} was not linked to the existing place {lid}: link it in the manage app"))
        for child in b.children:
            if child.state in ("new", "changed"):
                self._write(child, group)
        for entity, cid in b.archive:
            self._add(Rec(entity, cid, {}, b.service.file, b.service.line, b.service.path), "archive", cid, group)

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
                    self.report.error(Problem(rec.file, rec.line, rec.path, e.get("path", ""), e.get("message", "")))
                else:
                    self.report.error(Problem(self.report.file, None, "", e.get("path", ""), e.get("message", "")))
            raise ApplyFailed(str(exc)) from None

    def finish(self) -> None:
        self.publisher.finish()
