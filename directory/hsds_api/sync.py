"""`aid-directory import https://other.example/hsds/ [--modified-after TIME]`: one installation
syncs from another's HSDS API (`client.download`), through the same import as a file (checked,
all or nothing, moderated or published), then archives what the other side archived
(tombstones). It prints the `--modified-after` of the next sync."""

from __future__ import annotations

import sys

import click

from directory.hsds_api.client import SyncError, archive_tombstones, download, is_url

__all__ = ["import_url", "is_url"]


def import_url(
    url: str,
    apply: bool,
    publish: bool,
    source: str | None,
    admin_email: str | None,
    as_json: bool,
    modified_after: str | None,
) -> None:
    from directory.config import ConfigError
    from directory.exchange.commands import _actor, _open_db, import_file
    from directory.hsds_api.params import modified_after as parse_time

    if modified_after:
        try:
            parse_time(modified_after)
        except Exception:  # noqa: BLE001 - a ValidationFailed with the API's wording
            raise ConfigError(
                f"--modified-after {modified_after!r} is no date-time",
                "use the time the previous sync printed, e.g. 2026-12-01T08:00:00Z",
            ) from None
    try:
        got = download(url, modified_after=modified_after)
    except SyncError as exc:
        raise ConfigError(f"cannot read the HSDS API: {exc}", "check the URL (…/hsds/)") from None
    say = (lambda text: click.echo(text, err=True)) if as_json else click.echo
    try:
        say(
            f"Read {got.services} service(s) and {len(got.tombstones)} archived from {url} "
            f"({got.pages} page(s), {got.bytes} bytes)."
        )
        report = import_file(got.path, "hsds-json", apply, publish, source, admin_email, as_json)
    finally:
        got.path.unlink(missing_ok=True)
    if not report.ok:
        sys.exit(1)
    if apply and got.tombstones:
        from directory.db import session_scope

        engine, factory = _open_db()
        with session_scope(factory) as session:
            actor = _actor(session, admin_email) if publish else None
            archived = archive_tombstones(session, got.tombstones, actor=actor)
        engine.dispose()
        what = "archived" if publish else "proposed for archiving"
        say(f"{archived} service(s) archived at the source {what} here.")
    if got.next_modified_after:
        say(f"Next sync: --modified-after {got.next_modified_after}")
