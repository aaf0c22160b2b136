"""HSDS 3.1 records of the API, built from the exporter's per-record mapping
(`directory.exchange.records`): a full service is exactly what `export --format hsds-json`
writes for it (public scope: `directory.listings.privacy` applied), and every other shape is a
part of it. One mapping, one redaction, for the files and the API.

Shapes (names as in the official OpenAPI document's schemas):
- `service` (full, `/services/{id}`, `full=true`): the exporter's service object;
- `service_list` item: its one-to-one fields and the organisation, without child arrays;
- `minimal` item: `id`, `name`, `status`, `last_modified` (HSDS requires name and status);
- `tombstone`: an archived service, in HSDS terms (see `tombstone`);
- `organization` / `organization_list`, `service_at_location` / list item, `taxonomy`,
  `taxonomy_term`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from directory.exchange import records
from directory.exchange.export_sql import _cols
from directory.listings import models as m

PUBLIC = records.ExportOptions(include_confidential=False)
#: Child arrays of a full service that a list item leaves out (HSDS API reference, "Lists").
SERVICE_ARRAYS = frozenset(
    {
        "phones",
        "schedules",
        "service_areas",
        "service_at_locations",
        "languages",
        "funding",
        "cost_options",
        "required_documents",
        "contacts",
        "capacities",
        "attributes",
        "metadata",
        "additional_urls",
    }
)
#: Who a tombstone's metadata names as having deleted the record.
UPDATED_BY = "aid-directory"
_TOMBSTONE_NS = uuid.UUID("6f1c3f0e-7a53-4d51-9a51-4f2a1f0d7c11")


def service_rows(session: Session, ids: Sequence[uuid.UUID]) -> list[Any]:
    """Live service rows in the exporter's column form, in the order of `ids`."""
    if not ids:
        return []
    t = m.Service.__table__
    stmt = select(*_cols(t)).where(t.c.id.in_(list(ids)), t.c.archived_at.is_(None))
    found = {r["id"]: r for r in session.execute(stmt).mappings().all()}
    return [found[str(i)] for i in ids if str(i) in found]


def full_services(session: Session, ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    """The exporter's public service objects for `ids` (live ones, in the order of `ids`)."""
    rows = service_rows(session, ids)
    if not rows:
        return []
    _custom_plans(session)
    return list(records.build_batch(session, rows, places=_places(session), options=PUBLIC))


def _places(session: Session) -> records.PlaceNames:
    """The gazetteer, read once per request (an ndjson answer builds hundreds of batches)."""
    found = session.info.get("hsds_place_names")
    if found is None:
        found = session.info["hsds_place_names"] = records.PlaceNames(session)
    return found


def _custom_plans(session: Session) -> None:
    # As the exporter does (records.iter_services): batch look-ups planned with their ids.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def service_list_item(full: dict[str, Any]) -> dict[str, Any]:
    """A list item: the service's one-to-one fields (and its organisation), no child arrays."""
    return {k: v for k, v in full.items() if k not in SERVICE_ARRAYS}


def minimal(full: dict[str, Any]) -> dict[str, Any]:
    return {k: full[k] for k in ("id", "name", "status", "last_modified") if k in full}


def _stamp(value: dt.datetime | None) -> str | None:
    return records.jsonable(value) if value is not None else None


def tombstone(
    entity: str, record_id: Any, name: str, when: dt.datetime | None, **fields: Any
) -> dict[str, Any]:
    """An archived record in HSDS terms: its id, `status: defunct` (services), the time it
    went as `last_modified`, and one HSDS `metadata` entry with `last_action_type: "delete"`
    (HSDS's own way to record what happened to a record). Nothing else of it is published."""
    rid = str(record_id)
    stamp = _stamp(when) or ""
    out: dict[str, Any] = {"id": rid, **fields}
    if entity in ("service", "organization", "taxonomy_term"):
        out["name"] = name
    if entity == "service":
        out["status"] = "defunct"
        out["last_modified"] = stamp
    if entity in ("organization", "taxonomy_term"):
        out["description"] = ""
    out["metadata"] = [
        {
            "id": str(uuid.uuid5(_TOMBSTONE_NS, f"{entity}:{rid}:delete")),
            "resource_id": rid,
            "resource_type": entity,
            "last_action_date": stamp,
            "last_action_type": "delete",
            "field_name": "",
            "previous_value": "",
            "replacement_value": "",
            "updated_by": UPDATED_BY,
        }
    ]
    return out


def is_tombstone(record: dict[str, Any]) -> bool:
    meta = record.get("metadata")
    return isinstance(meta, list) and any(
        isinstance(x, dict) and x.get("last_action_type") == "delete" for x in meta
    )


# --- organisations ------------------------------------------------------------------------------


def organization_rows(session: Session, ids: Sequence[uuid.UUID]) -> list[Any]:
    if not ids:
        return []
    t = m.Organization.__table__
    stmt = select(*_cols(t)).where(t.c.id.in_(list(ids)), t.c.archived_at.is_(None))
    found = {r["id"]: r for r in session.execute(stmt).mappings().all()}
    return [found[str(i)] for i in ids if str(i) in found]


def organizations(session: Session, ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    """Organisation objects as the exporter nests them in a service (same fields, same
    extensions, same translations)."""
    rows = organization_rows(session, ids)
    texts = records._translations(session, [r["id"] for r in rows])
    out = []
    for row in rows:
        o = records._pick(row, records.ORGANIZATION_FIELDS)
        o.update(records._pick(row, records.ORGANIZATION_EXT, prefix=records.EXT))
        o.setdefault("description", "")
        if o_texts := texts.get(row["id"]):
            o[records.EXT + "translations"] = o_texts
        out.append(o)
    return out


def organization_full(
    org: dict[str, Any], services: list[dict[str, Any]], *, full_service: bool
) -> dict[str, Any]:
    """`/organizations/{id}`: the organisation with its services (one-to-one fields, or the
    full services with `full_service=true`)."""
    items = services if full_service else [service_list_item(s) for s in services]
    for item in items:
        item.pop("organization", None)  # it is the enclosing object
    return {**org, "services": items}


# --- service at location ------------------------------------------------------------------------


def service_at_locations(full: dict[str, Any], *, nested: bool) -> list[dict[str, Any]]:
    """The service-at-location objects of one full service: each with its (redacted) location
    and the service's one-to-one fields; `nested` keeps the schedules too."""
    service = service_list_item(full)
    out = []
    for sal in full.get("service_at_locations", []):
        item = {k: v for k, v in sal.items() if nested or k != "schedules"}
        item["service"] = service
        out.append(item)
    return out


# --- taxonomies ---------------------------------------------------------------------------------


def taxonomy(row: m.Taxonomy) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(row.id), "name": row.name, "description": row.description}
    if row.uri:
        out["uri"] = row.uri
    if row.taxonomy_version:
        out["version"] = row.taxonomy_version
    return out


def taxonomy_term(row: m.TaxonomyTerm) -> dict[str, Any]:
    """As the exporter writes a term inside an attribute (`records.TERM_FIELDS`)."""
    out = {n: records.jsonable(getattr(row, n)) for n in records.TERM_FIELDS}
    out = {k: v for k, v in out.items() if v is not None}
    out["description"] = row.description or ""
    return out
