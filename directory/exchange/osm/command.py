"""`aid-directory import --format osm FILE`: the CLI side (report printing, the transaction)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click


def run_cli(
    file: Path,
    *,
    apply: bool,
    admin_email: str | None,
    as_json: bool,
    mapping_path: Path | None,
    distance_m: float | None,
) -> bool:
    """Check (or with `apply`, queue) an OSM extract; print the report; True when it is clean."""
    import dataclasses

    from directory.cli import load_settings, open_engine, require_current_schema
    from directory.config import ConfigError
    from directory.db import make_sessionmaker, session_scope
    from directory.exchange.commands import _actor, _ensure_reference_data
    from directory.exchange.osm.mapping import MappingError, load_mapping
    from directory.exchange.osm.run import run_osm_import
    from directory.listings import models as m

    settings = load_settings()
    chosen = mapping_path or (Path(settings.osm_mapping) if settings.osm_mapping else None)
    engine = open_engine(settings)
    require_current_schema(engine)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    with session_scope(factory) as session:
        _ensure_reference_data(session)
        from sqlalchemy import select

        codes = set(session.scalars(select(m.TaxonomyTerm.code)))
        try:
            mapping = load_mapping(chosen, categories=codes)
        except MappingError as exc:
            raise ConfigError(str(exc), "see docs/exchange.md#openstreetmap") from None
        if distance_m is not None:
            mapping = dataclasses.replace(mapping, distance_m=distance_m)
        report = run_osm_import(
            session,
            file,
            mapping=mapping,
            apply=apply,
            actor=_actor(session, admin_email),
            default_locale=settings.default_locale,
        )
        if apply and not report.ok:
            session.rollback()
    engine.dispose()
    seconds = time.perf_counter() - started
    if as_json:
        click.echo(
            json.dumps(
                {**report.as_dict(), "seconds": round(seconds, 2)}, ensure_ascii=False, indent=2
            )
        )
    else:
        _print(report, mapping.source, seconds, apply)
    return report.ok


def _print(report: Any, mapping: str, seconds: float, apply: bool) -> None:
    from directory.exchange.commands import _print_report
    from directory.exchange.osm import ATTRIBUTION

    echo = click.echo
    if report.refused:
        click.secho(f"{report.file}: refused: {report.refused}", fg="red")
        return
    echo(f"{report.file} (OpenStreetMap, mapping {mapping}): {report.features} aid features")
    for category, n in sorted(report.by_category.items()):
        echo(f"  {category:40}{n:>8}")
    echo(
        f"  new listings: {report.new}, known (compared): {report.known}, "
        f"waiting for moderators: {report.waiting}, "
        f"possible duplicates of listed places: {len(report.duplicates)}"
    )
    for d in report.duplicates[:20]:
        what = (
            f"listed place {d['listed_place']}"
            if "listed_place" in d
            else f"{d['same_as_feature']} of this file"
        )
        echo(
            f"  duplicate? {d['osm_id']} {d['name']!r} ~ {d['listed_name']!r} "
            f"({d['metres']} m, {d['similarity']:.0%}): {what}"
        )
    if len(report.duplicates) > 20:
        echo(f"  ... and {len(report.duplicates) - 20} more")
    if report.listings is not None:
        _print_report(report.listings)
    for w in report.warnings[:30]:
        echo(f"  {w}")
    if len(report.warnings) > 30:
        echo(f"  ... and {len(report.warnings) - 30} more warnings")
    echo(f"Data {ATTRIBUTION} (recorded on every imported place).")
    if apply and report.ok:
        written = report.listings.change_requests if report.listings else 0
        click.secho(
            f"Queued for moderators: {written} change(s) of new or changed listings and "
            f"{report.updates_proposed} update(s) of listed places in {seconds:.1f} s.",
            fg="green",
        )
    elif apply:
        click.secho("Nothing was written: fix the errors above and import again.", fg="red")
    else:
        click.echo(f"Checked in {seconds:.1f} s. Nothing was written (add --apply to write).")
