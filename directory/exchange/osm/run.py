"""The OpenStreetMap import: features → change requests for moderators (never published).

1. Features the directory does not know become new listings through the importer's own path
   (`importer.run_import`: one group of change requests per listing, all or nothing); the ids
   are derived from the OSM id, so a re-import compares with what the last one made and
   proposes only what changed.
2. A feature whose new listing still waits for a moderator is left alone.
3. A feature near a listed place with a similar name (or linked to one by its OSM id) is never
   a new listing: the place gets one update proposal that links the OSM id and fills in the
   facts the listing lacks (the moderator sees it beside the listing), or, when the place is
   linked to another source already, it is only reported as a possible duplicate.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.exchange.importer import Report, run_import
from directory.exchange.osm import ATTRIBUTION, ID_TYPE
from directory.exchange.osm.convert import Converter, location_id, service_id
from directory.exchange.osm.dedupe import Near, Neighbours, Twins, linked_locations
from directory.exchange.osm.mapping import Mapping
from directory.exchange.osm.reader import Feature, read_features
from directory.exchange.readers import ImportRefused
from directory.listings import models as m
from directory.moderation.models import ChangeKind, ChangeRequest, ChangeState

#: Facts an update proposal may fill in on a listed place (only where the listing has none).
FILL_IN = (
    "shelter_type", "capacity_maximum", "has_heating", "has_power", "has_water", "has_internet",
    "has_toilets", "wheelchair_accessible", "pets_allowed", "open_24_7",
)  # fmt: skip


@dataclass
class OsmReport:
    file: str
    features: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    new: int = 0  # proposed (or to propose) as new listings
    known: int = 0  # made by an earlier import: compared, changes proposed
    waiting: int = 0  # their new listing still waits for a moderator
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    updates_proposed: int = 0
    warnings: list[str] = field(default_factory=list)
    listings: Report | None = None  # the importer's report of new and known features
    refused: str | None = None
    applied: bool = False

    @property
    def ok(self) -> bool:
        return self.refused is None and (self.listings is None or self.listings.ok)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": "osm",
            "attribution": ATTRIBUTION,
            "features": self.features,
            "by_category": dict(sorted(self.by_category.items())),
            "new": self.new,
            "known": self.known,
            "waiting_for_moderators": self.waiting,
            "possible_duplicates": self.duplicates,
            "updates_proposed": self.updates_proposed,
            "warnings": self.warnings,
            "listings": self.listings.as_dict() if self.listings else None,
            "refused": self.refused,
            "applied": self.applied,
        }


def run_osm_import(
    session: Session,
    path: Path,
    *,
    mapping: Mapping,
    apply: bool = False,
    actor: Any = None,
    default_locale: str = "uk",
    progress: Callable[[int], None] | None = None,
) -> OsmReport:
    """Read `path`, compare with the directory and report; with `apply`, propose it all to
    the moderators in the caller's transaction (all or nothing for the new listings)."""
    report = OsmReport(file=path.name)
    try:
        features = _unique(read_features(path, mapping))
    except ImportRefused as exc:
        report.refused = exc.reason
        return report
    report.features = len(features)
    report.by_category.update(f.rule.category for f in features)
    if progress is not None:
        progress(len(features))
    conv = Converter.load(session, default_locale)
    known = _existing(session, m.Service, [service_id(f) for f in features])
    waiting = _pending_creates(session, [service_id(f) for f in features])
    linked = linked_locations(session, [f.key for f in features])
    neighbours = Neighbours(session, features, mapping)
    twins = Twins(mapping)  # named features of this file proposed so far
    to_import: list[Feature] = []
    to_link: list[tuple[Feature, Near]] = []
    for f in features:
        sid = service_id(f)
        if sid in known:
            report.known += 1
            to_import.append(f)
        elif sid in waiting:
            report.waiting += 1
        elif f.key in linked and linked[f.key]["id"] != location_id(f):
            row = linked[f.key]
            to_link.append((f, Near(row["id"], row["name"] or "", 0.0, 1.0, row)))
        else:
            _, name, others = conv.names(f)
            near = neighbours.find(f, [name, *others.values()])
            twin = None
            if near is None and f.tags.get("name"):
                twin = twins.find(f, [name, *others.values()])
            if twin is not None:
                report.duplicates.append(
                    {
                        "osm_id": f.key,
                        "name": name,
                        "same_as_feature": twin.key,
                        "listed_name": twin.name,
                        "metres": round(twin.metres),
                        "similarity": round(twin.similarity, 2),
                    }
                )
            elif near is None:
                report.new += 1
                to_import.append(f)
                if f.tags.get("name"):
                    twins.add(f, [name, *others.values()])
            else:
                to_link.append((f, near))
                report.duplicates.append(
                    {
                        "osm_id": f.key,
                        "name": name,
                        "listed_place": str(near.location_id),
                        "listed_name": near.name,
                        "metres": round(near.metres),
                        "similarity": round(near.similarity, 2),
                    }
                )
    report.listings = _import_listings(session, path, conv, to_import, apply, actor, report)
    report.warnings.extend(conv.warnings)
    if apply and report.listings is not None and not report.listings.ok:
        return report
    for f, near in to_link:
        report.updates_proposed += _propose_link(session, conv, f, near, apply)
    report.applied = apply
    return report


def _unique(features: Any) -> list[Feature]:
    seen: dict[str, Feature] = {}
    for f in features:
        seen.setdefault(f.key, f)
    return list(seen.values())


def _existing(session: Session, model: Any, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    for i in range(0, len(ids), 500):
        out.update(session.scalars(select(model.id).where(model.id.in_(ids[i : i + 500]))))
    return out


def _pending_creates(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    for i in range(0, len(ids), 500):
        out.update(
            session.scalars(
                select(ChangeRequest.entity_id).where(
                    ChangeRequest.entity_id.in_(ids[i : i + 500]),
                    ChangeRequest.kind == ChangeKind.create,
                    ChangeRequest.state == ChangeState.pending,
                )
            )
        )
    return out


def _import_listings(
    session: Session,
    path: Path,
    conv: Converter,
    features: list[Feature],
    apply: bool,
    actor: Any,
    report: OsmReport,
) -> Report | None:
    """The new and known features through `importer.run_import` (as HSDS JSON, one service a
    line). A feature the write path refuses is left out with its reasons, then the rest is
    imported: one odd tag never stops a city."""
    if not features:
        return None
    items = [conv.item(f) for f in features]
    for _ in range(3):  # a refused apply rolls back to its savepoint: trying again is clean
        result = _run(session, path, items, apply=apply, actor=actor)
        bad = {p.line for p in result.errors if p.line}
        if result.ok or not bad or result.refused:
            break
        for p in result.errors:
            report.warnings.append(f"{_key(items, p.line)}: left out: {p.field} {p.reason}")
        items = [it for i, it in enumerate(items) if i + 2 not in bad]
    return result


def _key(items: list[dict[str, Any]], line: int | None) -> str:
    if line is None or not 0 <= line - 2 < len(items):
        return "?"
    return str(items[line - 2]["service_at_locations"][0]["location"]["external_identifier"])


def _run(
    session: Session, path: Path, items: list[dict[str, Any]], *, apply: bool, actor: Any
) -> Report:
    with tempfile.TemporaryDirectory(prefix="osm-import-") as tmp:
        hsds = Path(tmp) / "osm.json"
        with hsds.open("w", encoding="utf-8") as fh:
            fh.write("[\n")  # one service a line: the importer's line mode, lines = items + 2
            fh.write(",\n".join(json.dumps(it, ensure_ascii=False) for it in items))
            fh.write("\n]\n")
        return run_import(
            session, hsds, fmt="hsds-json", source="osm", apply=apply, actor=actor,
            display_name=path.name,
        )  # fmt: skip


def _propose_link(session: Session, conv: Converter, f: Feature, near: Near, apply: bool) -> int:
    """One update proposal for a listed place that is probably this feature: its OSM id and the
    facts the listing lacks. None when the place already says all that, or links another
    source's id, or such a proposal already waits."""
    row = near.row
    if row["external_identifier"] and (
        row["external_identifier_type"] != ID_TYPE or row["external_identifier"] != f.key
    ):
        return 0  # another source's record: reported as a possible duplicate only
    location = conv.item(f)["service_at_locations"][0]["location"]
    changes: dict[str, Any] = {}
    if row["external_identifier"] != f.key:
        changes = {"external_identifier": f.key, "external_identifier_type": ID_TYPE}
    for name in FILL_IN:
        value = location.get("x_" + name)
        if value is not None and row[name] is None:
            changes[name] = value
    if not changes:
        return 0
    pending = session.scalar(
        select(ChangeRequest.id).where(
            ChangeRequest.entity_id == row["id"],
            ChangeRequest.state == ChangeState.pending,
            ChangeRequest.source == "import",
        )
    )
    if pending is not None:
        return 0
    if apply:
        from directory.moderation import service as moderation

        moderation.propose(
            session,
            actor=None,
            entity_type="location",
            kind="update",
            entity_id=row["id"],
            changes=changes,
            base_version=row["version"],
            comment=(
                f"OpenStreetMap {f.key} is probably this place ({near.metres:.0f} m away, name "
                f"{near.similarity:.0%} similar): links its id and adds what it knows. "
                f"{ATTRIBUTION}."
            ),
            source="import",
        )
    return 1
