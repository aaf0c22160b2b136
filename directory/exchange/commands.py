"""`aid-directory export` and `aid-directory import`: thin adapters over the exchange modules."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from directory.exchange.exporters import EXPORT_FORMATS
from directory.exchange.readers import IMPORT_FORMATS

SUFFIX_FORMATS = {
    ".json": "hsds-json", ".zip": "hsds-csv", ".csv": "csv", ".tsv": "csv", ".pbf": "osm",
    ".osm": "osm",
}  # fmt: skip


def _open_db() -> Any:
    from directory.cli import load_settings, open_engine, require_current_schema
    from directory.db import make_sessionmaker

    settings = load_settings()
    engine = open_engine(settings)
    require_current_schema(engine)
    return engine, make_sessionmaker(engine)


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(EXPORT_FORMATS)),
    required=True,
    help="hsds-json, hsds-csv (zip), hxl, geojson or csv (spreadsheets)",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="file to write (default: standard output)",
)
@click.option(
    "--include-confidential",
    is_flag=True,
    help="admin export: include confidential and exact addresses and coordinates",
)
@click.option("--no-demo", is_flag=True, help="leave out records marked as demo data")
def export_cmd(fmt: str, output: Path | None, include_confidential: bool, no_demo: bool) -> None:
    """Export the directory (streamed: memory stays flat however large it is).

    Public exports never contain confidential addresses or coordinates; approximate places are
    rounded to ~1 km without street address.
    """
    from directory.cli import friendly_errors
    from directory.db import session_scope, sqlite_read_only
    from directory.exchange.records import ExportOptions, count_services

    @friendly_errors
    def run() -> None:
        # A read-only transaction: on SQLite a plain BEGIN, so a long export never holds the
        # write lock (writers go on while it runs; WAL gives it one consistent snapshot).
        sqlite_read_only.set(True)
        engine, factory = _open_db()
        _batch_gc()  # as for an import: dicts made and dropped per record (~10 % of the CPU)
        options = ExportOptions(include_confidential=include_confidential, include_demo=not no_demo)
        started = time.perf_counter()
        size = 0
        with session_scope(factory) as session:
            total = count_services(session, options)
            chunks = EXPORT_FORMATS[fmt].produce(session, options)
            if output is not None and output.exists() and not output.is_file():
                # a device or pipe (/dev/null, a FIFO): written in place — renaming a file over
                # it would replace /dev/null itself with a regular file
                with output.open("wb") as fh:
                    for chunk in chunks:
                        fh.write(chunk)
                        size += len(chunk)
            elif output is None:
                out = sys.stdout.buffer
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
            else:
                # Written next to the target and renamed at the end: no half-written file.
                fd, tmp = tempfile.mkstemp(
                    prefix=f".{output.name}.", dir=output.parent or Path(".")
                )
                try:
                    with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
                        for chunk in chunks:
                            fh.write(chunk)
                            size += len(chunk)
                    os.replace(tmp, output)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
        engine.dispose()
        seconds = time.perf_counter() - started
        where = str(output) if output else "standard output"
        click.echo(
            f"Exported {total} services as {fmt} to {where} "
            f"({size / 1e6:.1f} MB in {seconds:.1f} s).",
            err=True,
        )
        if include_confidential:
            click.secho(
                "This is an ADMIN export: it contains confidential addresses and coordinates. "
                "Keep it private.",
                fg="yellow",
                err=True,
            )

    run()


def _print_report(report: Any) -> None:
    echo = click.echo
    echo(f"{report.file} ({report.format}): {report.services_read} services read")
    if report.refused:
        click.secho(f"Refused: {report.refused}", fg="red")
    rows = [(e, c) for e, c in report.counts.items() if any(c.values())]
    if rows:
        echo(f"  {'':19}{'new':>9}{'changed':>9}{'unchanged':>11}{'removed':>9}")
        for entity, c in rows:
            echo(
                f"  {entity:19}{c['new']:>9}{c['changed']:>9}{c['unchanged']:>11}"
                f"{c.get('removed', 0):>9}"
            )
    for change in report.changed[:20]:
        where = change["file"] + (f":{change['line']}" if change.get("line") else "")
        echo(
            f"  changed {change['entity']} {change['id']} ({where}): {', '.join(change['fields'])}"
        )
    if len(report.changed) > 20:
        echo(f"  ... and {len(report.changed) - 20} more changes")
    if report.warnings:
        echo(f"{len(report.warnings)} warning(s):")
        for w in report.warnings[:50]:
            echo(f"  {w}")
    if report.error_count:
        click.secho(f"{report.error_count} error(s):", fg="red")
        for e in report.errors:
            echo(f"  {e}")
        if report.error_count > len(report.errors):
            echo(f"  ... and {report.error_count - len(report.errors)} more")


@click.command("import")
@click.argument("file", metavar="FILE_OR_URL")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*IMPORT_FORMATS, "osm"]),
    help="hsds-json, hsds-csv (zip), csv (the template) or osm (an OpenStreetMap .osm.pbf or "
    "Overpass JSON: proposed to moderators); default: from the file name",
)
@click.option(
    "--apply", is_flag=True, help="write (all or nothing); without it: only check and report"
)
@click.option(
    "--publish", is_flag=True, help="publish at once instead of queueing change requests (admins)"
)
@click.option(
    "--source", help="name of the source (e.g. partner-ngo): records are matched by its ids"
)
@click.option(
    "--as", "admin_email", metavar="EMAIL", help="the admin account publishing (with --publish)"
)
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option(
    "--modified-after",
    metavar="TIME",
    help="with an HSDS API URL: only what changed since TIME (the previous sync prints it)",
)
@click.option(
    "--osm-mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="with --format osm: tag → category rules (JSON) instead of DIRECTORY_OSM_MAPPING or "
    "the shipped ones",
)
@click.option(
    "--osm-distance",
    type=click.FloatRange(0, 5000),
    help="with --format osm: metres within which a similar name is a possible duplicate",
)
def import_cmd(
    file: str,
    fmt: str | None,
    apply: bool,
    publish: bool,
    source: str | None,
    admin_email: str | None,
    as_json: bool,
    modified_after: str | None,
    osm_mapping: Path | None,
    osm_distance: float | None,
) -> None:
    """Check a file of listings — or another installation's HSDS API (its base URL, e.g.
    https://help.example.org/hsds/) — and report new, changed and unchanged records and every
    error; with --apply write it through moderation (change requests, or published with
    --publish)."""
    from directory.cli import friendly_errors
    from directory.config import ConfigError
    from directory.hsds_api import sync

    @friendly_errors
    def run() -> None:
        if sync.is_url(file):
            sync.import_url(file, apply, publish, source, admin_email, as_json, modified_after)
            return
        path = Path(file)
        if not path.is_file():
            raise ConfigError(f"no file {file}", "give a file, or an HSDS API URL (https://...)")
        if (fmt or SUFFIX_FORMATS.get(path.suffix.lower())) == "osm":
            if publish:
                raise ConfigError(
                    "an OpenStreetMap import is never published at once",
                    "leave out --publish: moderators review every feature",
                )
            from directory.exchange.osm.command import run_cli

            if not run_cli(
                path,
                apply=apply,
                admin_email=admin_email,
                as_json=as_json,
                mapping_path=osm_mapping,
                distance_m=osm_distance,
            ):
                sys.exit(1)
            return
        report = import_file(path, fmt, apply, publish, source, admin_email, as_json)
        if not report.ok:
            sys.exit(1)

    run()


def import_file(
    file: Path,
    fmt: str | None,
    apply: bool,
    publish: bool,
    source: str | None,
    admin_email: str | None,
    as_json: bool,
) -> Any:
    """`aid-directory import FILE`: check (and write) it, print the report, return it."""
    from directory.config import ConfigError

    chosen = fmt or SUFFIX_FORMATS.get(file.suffix.lower())
    if chosen is None:
        raise ConfigError(
            f"cannot tell the format of {file.name}", "pass --format hsds-json, hsds-csv or csv"
        )
    if publish and not apply:
        raise ConfigError(
            "--publish needs --apply", "check first without --apply, then add --apply --publish"
        )
    if publish and not admin_email:
        raise ConfigError("--publish needs the admin who publishes", "add --as admin@example.org")
    engine, factory = _open_db()
    _batch_gc(IMPORT_GC_THRESHOLD)
    started = time.perf_counter()
    if apply and publish:
        report = _publish(factory, file, chosen, source, admin_email or "", as_json)
        if report.applied:
            from directory.db import refresh_statistics

            refresh_statistics(engine)  # the planner knows the new rows at once
    else:
        report = _check_or_queue(factory, file, chosen, source, apply, admin_email, as_json)
    engine.dispose()
    seconds = time.perf_counter() - started
    if as_json:
        click.echo(
            json.dumps(
                {**report.as_dict(), "seconds": round(seconds, 2)}, ensure_ascii=False, indent=2
            )
        )
    else:
        _print_report(report)
        if report.applied:
            what = "published" if report.published else "queued for moderators"
            groups = f" ({report.groups} new listing(s), each one group)" if report.groups else ""
            click.secho(
                f"Written: {report.change_requests} change(s){groups} {what} in {seconds:.1f} s.",
                fg="green",
            )
        elif apply:
            click.secho("Nothing was written: fix the errors above and import again.", fg="red")
        else:
            click.echo(
                f"Checked in {seconds:.1f} s. Nothing was written"
                + (" (add --apply to write)." if report.ok else ": fix the errors above first.")
            )
    return report


#: Young generation collects after 100,000 net allocations (default 700), older ones rarely.
BATCH_GC_THRESHOLD = (100_000, 50, 1000)
#: An import: after 1,000,000. What it keeps (the staged batches) is walked by every young
#: collection until it is promoted; at 100,000 that was 1.8-2.3 s of CPU for 10,000 services
#: (~90 collections), at 1,000,000 0.4 s, same peak memory (bench/results, "Second round").
IMPORT_GC_THRESHOLD = (1_000_000, 20, 1000)


def _batch_gc(threshold: tuple[int, int, int] = BATCH_GC_THRESHOLD) -> None:
    """This process now runs one import and exits. An import allocates millions of short-lived
    objects and keeps hundreds of thousands (the staged batches, the modules): with the default
    thresholds the cyclic collector walks the kept ones again and again, a fifth of the CPU of a
    2,000-service `--apply --publish`. What is loaded so far is frozen out of the collections,
    and they run rarely (reference counting frees almost everything anyway; peak memory measured
    the same).

    Process-wide state: when the command ends (its click context closes) the thresholds are
    restored and the frozen objects unfrozen, so a command run inside a longer-lived process
    (a test session's CliRunner) leaves its garbage collection as it found it."""
    import gc

    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)

    def restore() -> None:
        gc.set_threshold(*before)
        if not frozen_before:  # (a caller's own earlier freeze cannot be told apart: kept)
            gc.unfreeze()

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(restore)


def _progress_bar(file: Path, fmt: str, passes: int, label: str, as_json: bool) -> Any:
    total = _estimate(file, fmt)
    if sys.stderr.isatty() and not as_json:
        return click.progressbar(
            length=(total or 1) * passes, label=label, file=sys.stderr, show_pos=True
        )
    return _NoBar()


def _actor(session: Any, email: str | None) -> Any:
    from directory.accounts.service import get_account_by_email
    from directory.config import ConfigError

    if not email:
        return None
    actor = get_account_by_email(session, email=email)
    if actor is None:
        raise ConfigError(f"no account {email}", "see `aid-directory user list`")
    return actor


def _check_or_queue(
    factory: Any,
    file: Path,
    fmt: str,
    source: str | None,
    apply: bool,
    admin_email: str | None,
    as_json: bool,
) -> Any:
    """A check, or `--apply` (change requests for moderators): one transaction."""
    from directory.config import ConfigError
    from directory.db import session_scope
    from directory.errors import DomainError
    from directory.exchange.importer import run_import

    with session_scope(factory) as session:
        _ensure_reference_data(session)
        actor = _actor(session, admin_email)
        label = "Checking" + (", then writing" if apply else "")
        with _progress_bar(file, fmt, 2 if apply else 1, label, as_json) as bar:
            try:
                return run_import(
                    session,
                    file,
                    fmt=fmt,
                    source=source,
                    apply=apply,
                    actor=actor,
                    progress=bar.update,
                )
            except DomainError as exc:
                raise ConfigError(exc.detail, "publishing needs an admin account (--as)") from None


def _publish(
    factory: Any, file: Path, fmt: str, source: str | None, admin_email: str, as_json: bool
) -> Any:
    """`--apply --publish`: check and stage without the write lock, then publish in one short
    write transaction (`importer.publish_import`)."""
    from directory.config import ConfigError
    from directory.db import session_scope
    from directory.errors import DomainError
    from directory.exchange.importer import publish_import

    with session_scope(factory) as session:  # a short write: only on a new directory
        _ensure_reference_data(session)
        actor_id = _actor(session, admin_email).id
    with _progress_bar(file, fmt, 1, "Checking, then publishing", as_json) as bar:
        try:
            return publish_import(
                factory, file, fmt=fmt, source=source, actor_id=actor_id, progress=bar.update
            )
        except DomainError as exc:
            raise ConfigError(exc.detail, "publishing needs an admin account (--as)") from None


def _ensure_reference_data(session: Any) -> None:
    """A new directory gets its built-in categories and gazetteer (idempotent), so that the
    file's categories and places can be matched."""
    from sqlalchemy import func, select

    from directory.listings import models as m
    from directory.listings.places import ensure_places
    from directory.listings.taxonomy import ensure_taxonomy

    if not session.scalar(select(func.count()).select_from(m.TaxonomyTerm)):
        ensure_taxonomy(session)
    if not session.scalar(select(func.count()).select_from(m.Place)):
        ensure_places(session)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _estimate(path: Path, fmt: str) -> int | None:
    """Roughly how many services the file holds (for the progress bar)."""
    if fmt == "hsds-csv":
        return None
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - 1, 1)
