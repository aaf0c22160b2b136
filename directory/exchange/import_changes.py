"""Which changes a compared bundle makes: one plan for both import writers.

The per-record writer (`import_write.Writer`: proposals, one change request each) and the
set-based one (`bulk_import.BulkImport`, `--apply --publish`) walk a bundle the same way:
`bundle_changes` says what to write, in order (parents first: organisation, service, places with
their new links, the children, then what the file no longer has is archived), and where an
existing place could not be linked (a warning, where it falls in that order). Pure: nothing is
read or written here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from directory.exchange.import_records import Bundle, Rec
from directory.exchange.import_report import Problem


@dataclass(frozen=True)
class RecordWrite:
    """One change of one record: `kind` create, update, restore or archive."""

    rec: Rec
    kind: str
    entity_id: Any
    changes: dict[str, Any] | None = None
    translations: dict[str, dict[str, str]] | None = None
    #: the version the import compared the record at (None after a restore in the same bundle:
    #: the restore moved it)
    base_version: int | None = None


def record_changes(rec: Rec, extra: dict[str, Any] | None = None) -> list[RecordWrite]:
    """A new record is created; a changed one updated (restored first when it was archived)."""
    if rec.state == "new":
        return [
            RecordWrite(
                rec,
                "create",
                rec.id,
                changes={**rec.fields(), **(extra or {})},
                translations=rec.translations,
            )
        ]
    out: list[RecordWrite] = []
    if rec.state == "changed" and rec.existing_id is not None:
        restored = "archived_at" in rec.changed_fields
        if restored:
            out.append(RecordWrite(rec, "restore", rec.existing_id, base_version=rec.base_version))
        changes, texts = rec.changes()
        if changes or texts:
            out.append(
                RecordWrite(
                    rec,
                    "update",
                    rec.existing_id,
                    changes=changes,
                    translations=texts,
                    base_version=None if restored else rec.base_version,
                )
            )
    return out


def bundle_changes(b: Bundle, created_locations: set[uuid.UUID]) -> list[RecordWrite | Problem]:
    """The writes of one bundle, in order, with a warning (`Problem`) for each new link to a
    place not created by this import (`created_locations`: the places created so far; this
    bundle's new ones are added to it)."""
    out: list[RecordWrite | Problem] = []
    if b.organization is not None and b.organization.state in ("new", "changed"):
        out += record_changes(b.organization)
    if b.service.state in ("new", "changed"):
        out += record_changes(b.service)
    for loc in b.locations:
        if loc.state == "new":
            services = sorted({str(s) for lid, s in b.new_links if lid == loc.id})
            out += record_changes(loc, {"service_ids": services})
            created_locations.add(loc.id)
        elif loc.state == "changed":
            out += record_changes(loc)
    for lid, s in b.new_links:
        if lid not in created_locations:
            out.append(
                Problem(
                    b.service.file,
                    b.service.line,
                    b.service.path,
                    "service_at_locations",
                    f"service {s} was not linked to the existing place {lid}: "
                    "link it in the manage app",
                )
            )
    for child in b.children:
        if child.state in ("new", "changed"):
            out += record_changes(child)
    for entity, cid in b.archive:
        rec = Rec(entity, cid, {}, b.service.file, b.service.line, b.service.path)
        out.append(RecordWrite(rec, "archive", cid))
    return out
