"""Comparing imported records with the directory: new, changed (which fields), unchanged,
removed; references repointed at the records they matched."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, tuple_

from directory.exchange.import_records import Bundle, Context, Rec, fields_of
from directory.exchange.import_report import Report
from directory.listings import models as m
from directory.moderation.fields import FIELDS, dump

MODELS: dict[str, Any] = {
    "organization": m.Organization, "service": m.Service, "location": m.Location,
    "address": m.Address, "phone": m.Phone, "schedule": m.Schedule,
    "schedule_exception": m.ScheduleException, "language": m.Language,
    "required_document": m.RequiredDocument, "accessibility": m.Accessibility,
}  # fmt: skip
PARENT_KEYS = {
    "address": ("location_id",), "phone": ("service_id", "location_id"),
    "schedule": ("service_id", "location_id"),
    "schedule_exception": ("service_id", "location_id"), "language": ("service_id", "location_id"),
    "required_document": ("service_id",), "accessibility": ("location_id",),
}  # fmt: skip


def _primary(entity: str, values: dict[str, Any]) -> tuple[str, str] | None:
    for key in PARENT_KEYS[entity]:
        if values.get(key):
            return key, str(values[key])
    return None


def _content(
    entity: str, values: dict[str, Any], keys: Iterable[str], *, parents: bool = True
) -> tuple[Any, ...]:
    own = tuple(values.get(n) for n in keys)
    if not parents:
        return own
    return own + tuple(str(values[k]) if values.get(k) else None for k in PARENT_KEYS[entity])


def _dumped(row: Any, names: Iterable[str]) -> dict[str, Any]:
    return {n: dump(row[n]) for n in names}


def _later(value: str | None, than: str | None) -> bool:
    if value is None:
        return False
    return than is None or dt.datetime.fromisoformat(value) > dt.datetime.fromisoformat(than)


class Planner:
    """Compares batches of bundles with the directory and counts what would change."""

    def __init__(self, ctx: Context, report: Report) -> None:
        self.ctx = ctx
        self.report = report

    def _existing(self, entity: str, recs: list[Rec]) -> dict[uuid.UUID, Any]:
        """Current rows of these records (by id, else by source + external id), keyed by rec id."""
        session = self.ctx.session
        table = MODELS[entity].__table__
        ids = [r.id for r in recs]
        found: dict[uuid.UUID, Any] = {}
        if ids:
            for row in session.execute(select(table).where(table.c.id.in_(ids))):
                found[row.id] = row._mapping
        externals = [r.external for r in recs if r.id not in found and r.external]
        if externals and "external_id" in table.c:
            rows = session.execute(
                select(table).where(
                    tuple_(table.c.external_source, table.c.external_id).in_(externals)
                )
            )
            by_ext = {(r.external_source, r.external_id): r._mapping for r in rows}
            for r in recs:
                if r.id not in found and r.external in by_ext:
                    found[r.id] = by_ext[r.external]
        if entity == "organization":
            names = {
                r.payload["__match_name__"].casefold(): r
                for r in recs
                if r.id not in found and r.payload.get("__match_name__")
            }
            if names:
                rows = session.execute(
                    select(table).where(
                        func.lower(table.c.name).in_(list(names)), table.c.archived_at.is_(None)
                    )
                )
                for row in rows:
                    rec = names.get(row.name.casefold())
                    if rec is not None and rec.id not in found:
                        found[rec.id] = row._mapping
        return found

    def _translations(
        self, entity: str, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, dict[str, str]]]:
        t = m.Translation.__table__
        out: dict[uuid.UUID, dict[str, dict[str, str]]] = defaultdict(dict)
        if ids:
            for row in self.ctx.session.execute(
                select(t.c.entity_id, t.c.field, t.c.locale, t.c.value).where(
                    t.c.entity_type == entity, t.c.entity_id.in_(ids)
                )
            ):
                out[row.entity_id].setdefault(row.field, {})[row.locale] = row.value
        return out

    def compare(self, bundles: list[Bundle]) -> None:
        by_entity: dict[str, list[Rec]] = defaultdict(list)
        for b in bundles:
            if b.organization is not None:
                by_entity["organization"].append(b.organization)
            by_entity["service"].append(b.service)
            by_entity["location"].extend(b.locations)
        resolved: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
        for entity in ("organization", "service", "location"):
            recs = list({r.id: r for r in by_entity[entity]}.values())
            existing = self._existing(entity, recs)
            texts = self._translations(entity, [row["id"] for row in existing.values()])
            for rec in by_entity[entity]:
                row = existing.get(rec.id)
                if row is not None:
                    resolved[(entity, rec.id)] = row["id"]
                self._compare(rec, row, texts.get(row["id"], {}) if row is not None else {})
        # references now point at the records they matched
        for b in bundles:
            for rec in [b.service, *b.locations]:
                oid = rec.payload.get("organization_id")
                if oid:
                    rec.payload["organization_id"] = str(
                        resolved.get(("organization", uuid.UUID(oid)), uuid.UUID(oid))
                    )
            sid = resolved.get(("service", b.service.id), b.service.id)
            loc_ids = {rec.id: resolved.get(("location", rec.id), rec.id) for rec in b.locations}
            b.new_links = [
                (resolved.get(("location", lid), lid), resolved.get(("service", s), s))
                for lid, s in b.new_links
            ]
            b.link_ids = {
                (resolved.get(("location", lid), lid), resolved.get(("service", s), s)): link
                for (lid, s), link in b.link_ids.items()
            }
            for child in b.children:
                if child.payload.get("service_id"):
                    child.payload["service_id"] = str(sid)
                if child.payload.get("location_id"):
                    lid = uuid.UUID(child.payload["location_id"])
                    child.payload["location_id"] = str(
                        loc_ids.get(lid, resolved.get(("location", lid), lid))
                    )
        self._compare_categories(bundles)
        self._compare_children(bundles)
        self._compare_links(bundles)

    def _compare(self, rec: Rec, row: Any, texts: dict[str, dict[str, str]]) -> None:
        counts = self.report.counts[rec.entity]
        if rec.id in self.ctx.seen["counted-" + rec.entity]:
            rec.state = "duplicate"
            if row is not None:
                rec.existing_id = row["id"]
            return
        self.ctx.seen["counted-" + rec.entity].add(rec.id)
        if row is None:
            rec.state = "new"
            counts["new"] += 1
            return
        rec.existing_id = row["id"]
        rec.base_version = row["version"]
        names = [
            n
            for n in rec.payload
            if not n.startswith("__")
            and n in FIELDS[rec.entity]
            and n not in ("service_ids", "categories")
        ]
        current = _dumped(row, names)
        rec.changed_fields = [n for n in names if current[n] != rec.payload[n]]
        if "assured_date" in rec.changed_fields and not _later(
            rec.payload["assured_date"], current["assured_date"]
        ):
            rec.changed_fields.remove("assured_date")  # a file never moves a verification back
            rec.payload.pop("assured_date")
        if row["archived_at"] is not None:
            rec.changed_fields.append("archived_at")
        source = dump(row["source_locale"]) if "source_locale" in row else "en"
        for name, per_locale in rec.translations.items():
            for locale, value in per_locale.items():
                have = dump(row[name]) if locale == source else texts.get(name, {}).get(locale)
                if have != value:
                    rec.changed_fields.append(f"{name}@{locale}")
        rec.state = "changed" if rec.changed_fields else "unchanged"
        counts[rec.state] += 1
        if rec.state == "changed":
            self._note(rec)

    def _note(self, rec: Rec, fields: list[str] | None = None) -> None:
        if len(self.report.changed) < 200:
            self.report.changed.append(
                {
                    "entity": rec.entity,
                    "id": str(rec.existing_id or rec.id),
                    "file": rec.file,
                    "line": rec.line,
                    "path": rec.path,
                    "fields": fields or rec.changed_fields,
                }
            )

    def _compare_categories(self, bundles: list[Bundle]) -> None:
        ids = [
            b.service.existing_id
            for b in bundles
            if b.service.existing_id and b.categories is not None
        ]
        current: dict[uuid.UUID, list[str]] = defaultdict(list)
        if ids:
            attr, term = m.Attribute.__table__, m.TaxonomyTerm.__table__
            for link_id, code in self.ctx.session.execute(
                select(attr.c.link_id, term.c.code)
                .join(term, term.c.id == attr.c.taxonomy_term_id)
                .where(
                    attr.c.link_entity == "service",
                    attr.c.link_id.in_(ids),
                    attr.c.archived_at.is_(None),
                )
            ):
                current[link_id].append(code)
        for b in bundles:
            rec = b.service
            if b.categories is None or rec.state == "duplicate":
                continue
            rec.payload["categories"] = b.categories
            if rec.existing_id and sorted(current.get(rec.existing_id, [])) != b.categories:
                rec.changed_fields.append("categories")
                if rec.state == "unchanged":
                    rec.state = "changed"
                    self.report.counts["service"]["unchanged"] -= 1
                    self.report.counts["service"]["changed"] += 1
                    self._note(rec)

    def _compare_children(self, bundles: list[Bundle]) -> None:
        session = self.ctx.session
        sids = {b.service.existing_id for b in bundles if b.service.existing_id}
        lids = {loc.existing_id for b in bundles for loc in b.locations if loc.existing_id}
        existing: dict[str, dict[tuple[str, str], list[Any]]] = {
            e: defaultdict(list) for e in PARENT_KEYS
        }
        for entity in PARENT_KEYS:
            t = MODELS[entity].__table__
            conds = []
            if "service_id" in PARENT_KEYS[entity] and sids:
                conds.append(t.c.service_id.in_(list(sids)))
            if "location_id" in PARENT_KEYS[entity] and lids:
                conds.append(t.c.location_id.in_(list(lids)))
            if not conds:
                continue
            for row in session.execute(select(t).where(or_(*conds), t.c.archived_at.is_(None))):
                values = _dumped(row._mapping, [*fields_of(entity), *PARENT_KEYS[entity]])
                key = _primary(entity, values)
                if key is not None:
                    existing[entity][key].append((row._mapping, values))
        counts = self.report.counts
        for b in bundles:
            covered: set[tuple[str, tuple[str, str]]] = set()
            matched: set[uuid.UUID] = set()
            for child in b.children:
                key = _primary(child.entity, child.payload)
                if key is None:
                    continue
                covered.add((child.entity, key))
                keys = [n for n in fields_of(child.entity) if n in child.payload]
                rows = [
                    (row, _content(child.entity, values, keys))
                    for row, values in existing[child.entity].get(key, [])
                ]
                content = _content(child.entity, child.payload, keys)
                same_id = next(
                    (r for r in rows if r[0]["id"] == child.id and r[0]["id"] not in matched), None
                )
                same_content = next(
                    (r for r in rows if r[1] == content and r[0]["id"] not in matched), None
                )
                hit = (
                    same_id
                    if same_id is not None and same_id[1] == content
                    else same_content or same_id
                )
                if hit is None and b.partial and key[0] == "service_id":
                    # a spreadsheet lists the place's own phones and hours with the service's
                    own = _content(child.entity, child.payload, keys, parents=False)
                    place_ids = {str(lid) for lid, _ in b.new_links} | {
                        str(loc.existing_id or loc.id) for loc in b.locations
                    }
                    if any(
                        _content(child.entity, values, keys, parents=False) == own
                        for lid in place_ids
                        for _, values in existing[child.entity].get(("location_id", lid), [])
                    ):
                        child.state = "unchanged"
                        counts[child.entity]["unchanged"] += 1
                        continue
                if hit is None:
                    child.state = "new"
                    counts[child.entity]["new"] += 1
                    continue
                matched.add(hit[0]["id"])
                child.existing_id = hit[0]["id"]
                child.base_version = hit[0]["version"]
                if hit[1] == content:
                    child.state = "unchanged"
                else:
                    child.state = "changed"
                    child.changed_fields = [
                        n
                        for n in fields_of(child.entity)
                        if dump(hit[0][n]) != child.payload.get(n)
                    ]
                    self._note(child)
                counts[child.entity][child.state] += 1
            # the file states all children of what it covers: the others are removed
            for entity, key in covered:
                for row, _ in existing[entity].get(key, []):
                    if row["id"] not in matched:
                        b.archive.append((entity, row["id"]))
                        counts[entity].setdefault("removed", 0)
                        counts[entity]["removed"] += 1
                        matched.add(row["id"])

    def _compare_links(self, bundles: list[Bundle]) -> None:
        links = {(lid, sid) for b in bundles for lid, sid in b.new_links}
        if not links:
            return
        t = m.ServiceAtLocation.__table__
        have = set(
            self.ctx.session.execute(
                select(t.c.location_id, t.c.service_id).where(
                    t.c.service_id.in_(list({s for _, s in links}))
                )
            )
        )
        for b in bundles:
            b.new_links = [link for link in b.new_links if link not in have]
