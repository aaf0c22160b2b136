"""Importing listings: read a file, validate every record, compare it with the directory and
report new / changed / unchanged records and every error (file, line or JSON path, field,
reason) — and, with `apply`, write all of it or nothing through the moderation write path.

Records are matched by id, else by the stored external id of the source (`--source`), so
re-importing the same file changes nothing and a changed file updates only what changed. Ids
are kept from the file when they are UUIDs, and derived deterministically (UUID 5 of source and
key) when they are not, so a spreadsheet without ids still matches itself on the next import.

Work is batched (a few IN queries per batch of services), so a dry run of 100,000 services runs
in flat memory; `apply` reads the file a second time and writes after a clean dry run only.

This module runs an import; its parts live beside it: `import_report` (the report),
`import_records` (records, bundles, reference data), `import_cleaning` (values through the
write path's rules), `import_hsds` and `import_sheet` (a file's records → bundles),
`import_plan` (comparison with the directory), `import_write` (change requests) and
`bulk_import` (`--apply --publish`). The names other modules use are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from directory.db import session_scope, sqlite_read_only, utcnow
from directory.exchange.import_hsds import item_to_bundle
from directory.exchange.import_keep import KeepingPublisher, defer_later_refs
from directory.exchange.import_plan import Planner
from directory.exchange.import_records import NAMESPACE, Bundle, Context, Rec
from directory.exchange.import_report import ENTITIES, MAX_ERRORS, Problem, Report
from directory.exchange.import_sheet import parse_hours
from directory.exchange.import_write import ApplyFailed, Writer, held_by_guard
from directory.exchange.readers import (
    ImportRefused,
    Item,
    read_hsds_csv,
    read_hsds_json,
    read_simple_csv,
)
from directory.listings import models as m

__all__ = [
    "BATCH", "ENTITIES", "MAX_ERRORS", "NAMESPACE", "READERS", "ApplyFailed", "Bundle", "Context",
    "Planner", "Problem", "Rec", "Report", "Writer", "held_by_guard", "item_to_bundle",
    "parse_hours", "publish_import", "run_import", "write_checked",
]  # fmt: skip

BATCH = 500

READERS: dict[str, Callable[..., Iterator[Item]]] = {
    "hsds-json": read_hsds_json,
    "hsds-csv": read_hsds_csv,
    "csv": read_simple_csv,
}


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_pass(
    session: Session,
    path: Path,
    *,
    fmt: str,
    source: str | None,
    report: Report,
    now: dt.datetime,
    writer: Writer | None,
    progress: Callable[[int], None] | None,
    limit: int | None,
    bulk: KeepingPublisher | None = None,
    stage: list[list[Bundle]] | None = None,
) -> None:
    ctx = Context(session, source=source, fmt=fmt, now=now)
    planner = Planner(ctx, report)
    kwargs = {"limit": limit} if limit else {}
    for items in _batches(READERS[fmt](path, **kwargs), BATCH):
        bundles = []
        for item in items:
            report.services_read += 1
            bundle = item_to_bundle(ctx, report, item)
            if bundle is not None:
                bundles.append(bundle)
        if bundles:
            planner.compare(bundles)
        if stage is not None and bundles and report.ok:
            stage.append(bundles)
        if bulk is not None and report.ok:
            bulk.apply(bundles)  # validated and written set by set; ApplyFailed on refusal
        if writer is not None and report.ok:
            from directory.moderation.service import deferred_reindex

            # A proposal may only name a published service as the alternative.
            for rec, ref in defer_later_refs(session, bundles):
                report.warn(
                    Problem(
                        rec.file,
                        rec.line,
                        rec.path,
                        "x_alternative_service_id",
                        f"names service {ref}, which is not published yet: left out (set it "
                        "once both are approved)",
                    )
                )

            # The write path collects the services each change touches (also those of an
            # organisation or place outside this file) and they are reindexed once per batch.
            with deferred_reindex(session) as touched:
                for bundle in bundles:
                    if bundle.service.state != "duplicate":
                        writer.apply(bundle)
            writer.touched |= touched
            if writer.touched:
                from directory.search.index import reindex_services

                session.flush()
                reindex_services(session, writer.touched)
                writer.touched.clear()
        if progress is not None:
            progress(len(items))


def run_import(
    session: Session,
    path: Path,
    *,
    fmt: str,
    source: str | None = None,
    apply: bool = False,
    publish: bool = False,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    display_name: str | None = None,
) -> Report:
    """Validate `path` and report; with `apply`, write everything or nothing (the caller's
    transaction is left clean: a failed apply rolls back to a savepoint taken here).

    With `publish` the file is read once: each batch is checked, then written set-based by
    `moderation.bulk.BulkPublisher` while the report is clean; the first error stops the
    writing (the rest is still checked, for the report) and everything is rolled back.
    Without `publish`, a clean check is followed by `write_checked`: one change request per
    record, for moderators to review."""
    from directory.accounts.models import Role
    from directory.errors import Forbidden

    if fmt not in READERS:
        raise ValueError(f"unknown import format {fmt!r}")
    now = now or utcnow()
    name = display_name or path.name
    if publish and (actor is None or getattr(actor, "role", None) != Role.admin or actor.disabled):
        raise Forbidden("Only an admin may publish an import directly")
    comment = (
        f"import of {name}"
        + (f" from {source}" if source else "")
        + (f" by {actor.email}" if getattr(actor, "email", None) else "")
    )
    if apply and publish:
        return _publish_bulk(
            session,
            path,
            fmt=fmt,
            source=source,
            now=now,
            actor=actor,
            progress=progress,
            limit=limit,
            name=name,
            comment=comment,
        )
    report = Report(file=name, format=fmt, source=source)
    try:
        _run_pass(
            session,
            path,
            fmt=fmt,
            source=source,
            report=report,
            now=now,
            writer=None,
            progress=progress,
            limit=limit,
        )
    except ImportRefused as exc:
        report.refused = exc.reason
        if exc.line:
            report.error(Problem(exc.file or name, exc.line, "", "", exc.reason))
        return report
    for p in report.errors:
        p.file = name if p.file == path.name else p.file
    if not apply or not report.ok:
        return report
    writer = Writer(session, report=Report(file=name, format=fmt, source=source), comment=comment)
    return write_checked(
        session, path, report, writer=writer, now=now, progress=progress, limit=limit
    )


def write_checked(
    session: Session,
    path: Path,
    checked: Report,
    *,
    writer: Writer,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> Report:
    """After a clean check (`checked`), read the file again and write it through `writer`, all
    or nothing in a savepoint: the writer's report, or `checked` with the refusals."""
    written = writer.report
    try:
        with session.begin_nested():
            _run_pass(
                session,
                path,
                fmt=checked.format,
                source=checked.source,
                report=written,
                now=now,
                writer=writer,
                progress=progress,
                limit=limit,
            )
            if not written.ok:
                raise ApplyFailed("refused by the write path")
    except (ApplyFailed, ImportRefused) as exc:
        checked.errors.extend(written.errors)
        checked.error_count += written.error_count or 1
        if isinstance(exc, ImportRefused):
            checked.refused = exc.reason
        return checked
    written.applied = True
    written.warnings = checked.warnings + written.warnings
    return written


def _publish_bulk(
    session: Session,
    path: Path,
    *,
    fmt: str,
    source: str | None,
    now: dt.datetime,
    actor: Any,
    progress: Callable[[int], None] | None,
    limit: int | None,
    name: str,
    comment: str,
) -> Report:
    """`--apply --publish` in one pass over the file, all or nothing in a savepoint."""
    from directory.exchange.bulk_import import BulkImport

    report = Report(file=name, format=fmt, source=source)
    try:
        with session.begin_nested() as savepoint:
            bulk = KeepingPublisher(
                session,
                BulkImport(session, actor=actor, report=report, comment=comment, now=now),
                now=now,
            )
            _run_pass(
                session,
                path,
                fmt=fmt,
                source=source,
                report=report,
                now=now,
                writer=None,
                progress=progress,
                limit=limit,
                bulk=bulk,
            )
            if report.ok:
                bulk.finish()
            if not report.ok:
                savepoint.rollback()  # the refusal is in the report
    except ImportRefused as exc:
        report.refused = exc.reason
        if exc.line:
            report.error(Problem(exc.file or name, exc.line, "", "", exc.reason))
        return report
    except ApplyFailed as exc:
        if report.ok:
            report.error(Problem(name, None, "", "", str(exc) or "refused by the write path"))
    for p in report.errors:
        p.file = name if p.file == path.name else p.file
    if not report.ok:
        return report
    report.applied = True
    report.published = True
    report.change_requests = bulk.change_requests
    return report


#: How long the publish phase of `publish_import` announces it will hold the write lock:
#: a floor plus a rate per service, from the measured 10,000-service import (docs/security.md).
PUBLISH_SECONDS_FLOOR = 5.0
PUBLISH_SECONDS_PER_SERVICE = 0.002


def publish_import(
    factory: sessionmaker[Session],
    path: Path,
    *,
    fmt: str,
    actor_id: uuid.UUID,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    display_name: str | None = None,
) -> Report:
    """`import --apply --publish` that holds the database for writing only while it publishes.

    1. Check and stage, in a read-only transaction (on SQLite a plain BEGIN, so web and API
       writes go on meanwhile): every record is read, validated and compared with the directory;
       the compared batches are kept. Any error: the report, nothing written.
    2. Publish, in ONE write transaction: the staged batches go through the set-based write path
       (`moderation.bulk`, which checks each update's base version, so a record someone changed
       since the check refuses the whole import), the touched services are reindexed, commit.
       All or nothing: any failure rolls the whole publish back. Meanwhile the import is
       announced (`directory.writelock`), so that a writer that times out is told why.
    """
    from directory.accounts.models import Account, Role
    from directory.errors import Forbidden
    from directory.exchange.bulk_import import BulkImport
    from directory.writelock import holding

    if fmt not in READERS:
        raise ValueError(f"unknown import format {fmt!r}")
    now = now or utcnow()
    name = display_name or path.name
    report = Report(file=name, format=fmt, source=source)
    staged: list[list[Bundle]] = []
    read_only = sqlite_read_only.set(True)
    try:
        with session_scope(factory) as session:
            if session.get_bind().dialect.name == "postgresql":
                # One snapshot for the whole check (SQLite's read transaction is one already).
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            actor = session.get(Account, actor_id)
            if actor is None or actor.role != Role.admin or actor.disabled:
                raise Forbidden("Only an admin may publish an import directly")
            comment = (
                f"import of {name}" + (f" from {source}" if source else "") + f" by {actor.email}"
            )
            try:
                _run_pass(
                    session,
                    path,
                    fmt=fmt,
                    source=source,
                    report=report,
                    now=now,
                    writer=None,
                    progress=progress,
                    limit=limit,
                    stage=staged,
                )
            except ImportRefused as exc:
                report.refused = exc.reason
                if exc.line:
                    report.error(Problem(exc.file or name, exc.line, "", "", exc.reason))
    finally:
        sqlite_read_only.reset(read_only)
    for p in report.errors:
        p.file = name if p.file == path.name else p.file
    if not report.ok:
        return report
    services = sum(len(batch) for batch in staged)
    seconds = PUBLISH_SECONDS_FLOOR + services * PUBLISH_SECONDS_PER_SERVICE
    engine = factory.kw["bind"]
    with holding(engine, what="import", seconds=seconds):
        session = factory()
        try:
            approver = session.get(Account, actor_id)
            # Kept referenced: the write path's rules look these up with session.get.
            keep = (list(session.scalars(select(m.Locale))), list(session.scalars(select(m.Place))))
            bulk = KeepingPublisher(
                session,
                BulkImport(session, actor=approver, report=report, comment=comment, now=now),
                now=now,
            )
            for batch in staged:
                bulk.apply(batch)  # ApplyFailed (errors in the report) on any refusal
            bulk.finish()
            session.commit()
            del keep
        except ApplyFailed as exc:
            session.rollback()
            if report.ok:
                report.error(Problem(name, None, "", "", str(exc) or "refused by the write path"))
            return report
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    report.applied = True
    report.published = True
    report.change_requests = bulk.change_requests
    return report
