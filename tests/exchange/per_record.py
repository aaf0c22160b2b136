"""The per-record publish of an import, kept in the tests to compare with the set-based one
(`directory.exchange.bulk_import`): the importer's check, then every record proposed and
approved at once through `moderation.propose`/`approve`, one change request per record; what the
fraud guard marks on records that existed before the import waits for a second moderator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.exchange.importer import (
    Rec,
    Report,
    Writer,
    held_by_guard,
    run_import,
    write_checked,
)


class PublishingWriter(Writer):
    grouped = False

    def __init__(self, session: Session, *, actor: Any, report: Report, comment: str) -> None:
        super().__init__(session, report=report, comment=comment)
        self.actor = actor

    def proposed(self, cr: Any, rec: Rec, kind: str, changes: dict[str, Any] | None) -> None:
        from directory.moderation import service as moderation

        if held_by_guard(cr.sensitive, rec.entity, kind, changes, self.created):
            cr.author_id = self.actor.id  # the publishing admin's; another moderator approves
            self.report.held += 1
            self.report.pending += 1
        else:
            moderation.approve(self.session, change_id=cr.id, reviewer=self.actor)


def publish_per_record(
    session: Session, path: Path, *, fmt: str, actor: Any, source: str | None = None
) -> Report:
    """`import --apply --publish`, one record at a time."""
    now = utcnow()
    checked = run_import(session, path, fmt=fmt, source=source, now=now)
    if not checked.ok:
        return checked
    comment = (
        f"import of {path.name}" + (f" from {source}" if source else "") + f" by {actor.email}"
    )
    writer = PublishingWriter(
        session,
        actor=actor,
        report=Report(file=path.name, format=fmt, source=source),
        comment=comment,
    )
    report = write_checked(session, path, checked, writer=writer, now=now)
    report.published = report.applied
    return report
