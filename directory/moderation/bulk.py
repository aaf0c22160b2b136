"""Set-based publishing: the write path for large imports published at once by an admin.

`service.propose` + `service.approve` cost a few milliseconds of CPU per record (ORM objects,
one change request, one audit entry, a savepoint, several lookups each), so 100,000 services
(~600,000 records) would take half an hour. `BulkPublisher` applies the same rules set by set:

- the same rules: `plan.check` validates each record as for the per-record path (fields and
  `fields.clean`, remembered here for repeated short values; allowed fields per kind, required
  fields on create, the cross-field checks) and `plan.record_change` computes what it writes and
  the audit's before/after; references checked with one IN query per referenced table,
  version checks on every update (`WHERE version = base_version`, rowcount checked);
- writes with Core `INSERT`/`UPDATE` in chunks (`directory.fast_insert`: `COPY FROM STDIN` for
  the INSERTs on PostgreSQL, executemany elsewhere) (records, translations, categories,
  service-at-location links);
- audited: one `change_request` per *group* (the importer's group is a service bundle: the
  service with its organisation, places, addresses, phones, hours), approved by the publishing
  admin, with the file and admin in its comment and the records it carries in
  `payload["records"]`; and one `audit_entry` per record written (action, changes before/after,
  full snapshot, `change_request_id` of its group, `approver_id` the admin) — exactly what the
  per-record path writes for each record, so history, diff and revert work the same;
- search: the services touched are collected in `touched`; `finish()` reindexes them once
  (`search.index.reindex_services`) and bumps the data version (Core writes bypass the ORM hook).

The caller owns the transaction (savepoint) and never commits in between: any refusal raises
`BulkRefused` (the op's `tag` and errors with a path) and the caller rolls everything back.

    BulkPublisher(session, *, approver, comment, source="import", now=None)
    .add(entity_type, kind, entity_id, *, group, fields=None, translations=None,
         base_version=None, tag=None)        kinds: create, update, archive, restore
    .flush() -> int                          validate and write what was added (records written)
    .finish() -> None                        reindex the touched services, bump the data version
    .link_ids, .attribute_ids                ids wanted for the links / categories created
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from directory.accounts.models import Account, Role
from directory.db import Base, utcnow
from directory.errors import Forbidden
from directory.fast_insert import insert_rows
from directory.listings import models as m
from directory.moderation import consistency
from directory.moderation.fields import (
    FIELDS,
    MODELS,
    VIRTUAL_FIELDS,
    CleanMemo,
    F,
    FieldError,
    as_uuid,
    clean,
    dump,
)
from directory.moderation.models import AuditEntry, ChangeKind, ChangeRequest, ChangeState
from directory.moderation.plan import (
    category_changes,
    check,
    record_change,
    snapshot_of,
    text_changes,
)

KINDS = (ChangeKind.create, ChangeKind.update, ChangeKind.archive, ChangeKind.restore)
CHUNK = 1000  # rows per executemany / IN query
_MEMO_MAX = 300_000


class BulkRefused(Exception):
    """A record was refused: nothing of the bulk write may be kept (roll back)."""

    def __init__(self, tag: Any, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.tag = tag
        self.errors = errors


@dataclass
class _Op:
    entity_type: str
    kind: ChangeKind
    entity_id: uuid.UUID
    fields: dict[str, Any]
    translations: dict[str, dict[str, str]]
    base_version: int | None
    group: uuid.UUID
    tag: Any
    trusted: bool = False  # values are already what fields.clean returns
    cleaned: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    current: Any = None  # the row before an update/archive/restore


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _table_order() -> dict[str, int]:
    order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
    return {e: order.get(model.__tablename__, 0) for e, model in MODELS.items()}


def _defaults(table: Any) -> dict[str, Any]:
    """Scalar column defaults (what an INSERT without the column stores), for snapshots."""
    out: dict[str, Any] = {}
    for col in table.columns:
        default = col.default
        if default is not None and getattr(default, "is_scalar", False):
            out[col.name] = default.arg
    return out


class BulkPublisher:
    """Validates and writes many records set by set; see the module docstring."""

    def __init__(
        self,
        session: Session,
        *,
        approver: Account,
        comment: str,
        source: str = "import",
        now: dt.datetime | None = None,
    ) -> None:
        if approver is None or approver.disabled or approver.role != Role.admin:
            raise Forbidden("Only an admin may publish in bulk")
        self.session = session
        self.approver = approver
        self.comment = (comment or "").strip()[:5000] or None
        self.source = source[:20]
        self.now = now or utcnow()
        self.touched: set[uuid.UUID] = set()
        self.change_requests = 0
        self.records = 0
        self._ops: list[_Op] = []
        self._group_crs: dict[uuid.UUID, uuid.UUID] = {}  # group → its change request (per flush)
        # remembered for repeated values; long texts are cleaned each time
        self._clean = CleanMemo(session, now=self.now, max_len=200, limit=_MEMO_MAX)
        self._locales = set(session.scalars(select(m.Locale.code)))
        self._terms: dict[str, uuid.UUID] = {
            r[0]: r[1] for r in session.execute(select(m.TaxonomyTerm.code, m.TaxonomyTerm.id))
        }
        self._order = _table_order()
        self._defaults = {e: _defaults(model.__table__) for e, model in MODELS.items()}
        self._touched_text: set[str] = set()
        #: ids the caller wants for the rows the next flushes create (a service-at-location
        #: link: (location id, service id) → id; a category: (service id, term id) → id),
        #: taken out as those rows are made; the caller checks that no other row has them
        self.link_ids: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}
        self.attribute_ids: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}
        # a snapshot's fields in FIELDS order, with the value a new record gets by default
        self._snapshot_defaults = {
            e: {n: dump(self._defaults[e].get(n)) for n in FIELDS[e] if n not in VIRTUAL_FIELDS}
            for e in MODELS
        }

    # --- collecting ---------------------------------------------------------------------------

    def add(
        self,
        entity_type: str,
        kind: ChangeKind | str,
        entity_id: uuid.UUID,
        *,
        group: uuid.UUID,
        fields: Mapping[str, Any] | None = None,
        translations: Mapping[str, Mapping[str, str]] | None = None,
        base_version: int | None = None,
        tag: Any = None,
        cleaned: bool = False,
    ) -> None:
        """Queue one change. `cleaned=True`: the values (and translations) are already the
        output of `fields.clean` in this process (the importer's check pass ran every value
        through it), so they are not cleaned twice; everything else is checked here."""
        kind = ChangeKind(kind)
        if kind not in KINDS:
            raise BulkRefused(
                tag, [{"path": "kind", "message": f"{kind.value} is not a bulk change"}]
            )
        if entity_type not in MODELS or entity_type not in FIELDS:
            raise BulkRefused(
                tag, [{"path": "", "message": f"unknown record type {entity_type[:40]!r}"}]
            )
        self._ops.append(
            _Op(
                entity_type,
                kind,
                entity_id,
                dict(fields or {}),
                {k: dict(v) for k, v in (translations or {}).items()},
                base_version,
                group,
                tag,
                cleaned,
            )
        )

    # --- validation ---------------------------------------------------------------------------

    def _validate(
        self, op: _Op, refs: dict[type[Any], dict[str, list[_Op]]]
    ) -> list[dict[str, str]]:
        """The write path's rules (`plan.check`); values are cleaned set-wise: references are
        collected in `refs` for one IN query per table, categories checked against the terms
        read once, repeated short values remembered, the importer's values not cleaned twice."""

        def clean_value(name: str, spec: F, value: Any) -> Any:
            if value is None:
                return clean(self.session, spec, None, now=self.now)
            if spec.kind in ("uuid", "uuids"):
                values = value if spec.kind == "uuids" else [value]
                if spec.kind == "uuids" and (
                    not isinstance(value, list) or len(value) > spec.extra.get("max_items", 50)
                ):
                    raise FieldError("must be a short list of ids", "bad_list")
                ids = [v if op.trusted and isinstance(v, str) else str(as_uuid(v)) for v in values]
                if spec.ref is not None:
                    for ref_id in ids:
                        refs[spec.ref].setdefault(ref_id, []).append(op)
                return ids if spec.kind == "uuids" else ids[0]
            if spec.kind == "codes":
                if not isinstance(value, list) or len(value) > spec.extra.get("max_items", 20):
                    raise FieldError("must be a short list of category codes", "bad_list")
                for code in value:
                    if not isinstance(code, str) or code not in self._terms:
                        raise FieldError(
                            f"unknown category {str(code)[:100]!r}", "unknown_category"
                        )
                return sorted(set(value))
            return value if op.trusted else self._clean(spec, value)

        op.cleaned, op.texts, errors = check(
            op.entity_type,
            op.kind,
            op.current,
            op.fields,
            op.translations,
            now=self.now,
            clean_value=clean_value,
            clean_text=lambda spec, value: value if op.trusted else self._clean(spec, value),
            known_locale=self._locales.__contains__,
        )
        return errors

    def _load_current(self, ops: list[_Op]) -> None:
        """The current rows of the records updated, archived or restored (version-checked)."""
        by_entity: dict[str, list[_Op]] = defaultdict(list)
        for op in ops:
            if op.kind != ChangeKind.create:
                by_entity[op.entity_type].append(op)
        for entity, group in by_entity.items():
            table = MODELS[entity].__table__
            rows: dict[uuid.UUID, Any] = {}
            for chunk in _chunks(list({op.entity_id for op in group})):
                for row in self.session.execute(select(table).where(table.c.id.in_(chunk))):
                    rows[row.id] = row
            for op in group:
                op.current = rows.get(op.entity_id)
                if op.current is None:
                    raise BulkRefused(op.tag, [{"path": "", "message": f"No such {entity}"}])
                if op.base_version is not None and op.current.version != op.base_version:
                    raise BulkRefused(
                        op.tag,
                        [
                            {
                                "path": "",
                                "message": (
                                    f"The {entity} changed since version {op.base_version}; "
                                    f"it is now at version {op.current.version}"
                                ),
                            }
                        ],
                    )
                op.base_version = op.current.version

    def _check_refs(self, ops: list[_Op], refs: dict[type[Any], dict[str, list[_Op]]]) -> None:
        created: dict[str, set[str]] = defaultdict(set)
        for op in ops:
            if op.kind == ChangeKind.create:
                created[MODELS[op.entity_type].__tablename__].add(str(op.entity_id))
        for model, wanted in refs.items():
            table = model.__table__
            missing = set(wanted) - created[table.name]
            found: set[str] = set()
            for chunk in _chunks(sorted(missing)):
                found |= {
                    str(i)
                    for i in self.session.scalars(
                        select(table.c.id).where(table.c.id.in_([uuid.UUID(x) for x in chunk]))
                    )
                }
            for ref_id in sorted(missing - found):
                op = wanted[ref_id][0]
                name = next(
                    (
                        n
                        for n, v in op.cleaned.items()
                        if v == ref_id or (isinstance(v, list) and ref_id in v)
                    ),
                    "",
                )
                raise BulkRefused(op.tag, [{"path": name, "message": f"no such {table.name}"}])

    # --- writing ------------------------------------------------------------------------------

    def flush(self) -> int:
        """Validate everything added since the last flush, then write it (BulkRefused: nothing
        of this flush is written; the caller rolls back what earlier flushes wrote)."""
        ops, self._ops = self._ops, []
        if not ops:
            return 0
        ops += self._implied(ops)
        self._group_crs = {}
        # A record changed twice (restored, then updated) is written in a second round, on
        # top of the first: each round has at most one change per record.
        rounds: list[list[_Op]] = []
        depth: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
        for op in ops:
            key = (op.entity_type, op.entity_id)
            if depth[key] == len(rounds):
                rounds.append([])
            rounds[depth[key]].append(op)
            depth[key] += 1
        for round_ops in rounds:
            self._flush_round(round_ops)
        self.records += len(ops)
        return len(ops)

    def _implied(self, ops: list[_Op]) -> list[_Op]:
        """Status and capacity in step (`consistency`, the rules of the per-record path): a
        service set to full empties its locations' free places; free places end "full" for the
        services there (full wins when the same write says both). Applied to the operations
        themselves, or added as updates in the group that caused them (audited with it)."""
        live = (ChangeKind.create, ChangeKind.update)
        own: dict[tuple[str, uuid.UUID], _Op] = {}
        for op in ops:
            if op.kind in live:
                own.setdefault((op.entity_type, op.entity_id), op)
        full = {
            op.entity_id
            for op in ops
            if op.entity_type == "service" and op.kind in live and consistency.sets_full(op.fields)
        }
        freed = {
            op.entity_id
            for op in ops
            if op.entity_type == "location"
            and op.kind in live
            and consistency.frees_places(op.fields)
        }
        if not full and not freed:
            return []
        pairs = set(consistency.links(self.session, service_ids=full, location_ids=freed))
        for op in ops:  # links a new location brings with it
            if op.entity_type == "location" and op.kind == ChangeKind.create:
                for sid in op.fields.get("service_ids") or ():
                    try:
                        pairs.add((as_uuid(sid), op.entity_id))
                    except FieldError:
                        continue  # refused by validation
        services, places = consistency.current_states(
            self.session, service_ids={s for s, _ in pairs}, location_ids={loc for _, loc in pairs}
        )
        added: list[_Op] = []

        def change(
            entity_type: str, entity_id: uuid.UUID, fields: dict[str, Any], cause: _Op
        ) -> None:
            op = own.get((entity_type, entity_id))
            if op is not None:
                op.fields.update(fields)
                return
            new = _Op(
                entity_type,
                ChangeKind.update,
                entity_id,
                dict(fields),
                {},
                None,
                cause.group,
                cause.tag,
            )
            own[(entity_type, entity_id)] = new
            added.append(new)

        # Rule 1 (full wins): every location of a full service has no free places.
        for sid, lid in sorted(pairs, key=lambda p: (str(p[0]), str(p[1]))):
            if sid not in full:
                continue
            loc_op = own.get(("location", lid))
            free = (
                loc_op.fields.get("capacity_available")
                if loc_op and "capacity_available" in loc_op.fields
                else places.get(lid)
            )
            if isinstance(free, int) and free > 0:
                change("location", lid, {"capacity_available": 0}, own[("service", sid)])
                freed.discard(lid)
        # Rule 2: free places end "full" for the other services there.
        for sid, lid in sorted(pairs, key=lambda p: (str(p[0]), str(p[1]))):
            if lid not in freed or sid in full:
                continue
            svc_op = own.get(("service", sid))
            status = (
                svc_op.fields.get("status")
                if svc_op and "status" in svc_op.fields
                else services.get(sid, {}).get("status")
            )
            if status == consistency.FULL:
                state = services.get(sid, {})
                fields: dict[str, Any] = {"status": consistency.ACTIVE}
                fields |= {
                    n: None
                    for n in consistency.CLEARED_WITH_FULL
                    if state.get(n) is not None
                    or (svc_op is not None and svc_op.fields.get(n) is not None)
                }
                change("service", sid, fields, own[("location", lid)])
        return added

    def _flush_round(self, ops: list[_Op]) -> None:
        seen: set[tuple[str, uuid.UUID]] = set()
        for op in ops:
            if op.kind == ChangeKind.create:
                if (op.entity_type, op.entity_id) in seen:
                    raise BulkRefused(
                        op.tag, [{"path": "", "message": "A record with this id exists"}]
                    )
                seen.add((op.entity_type, op.entity_id))
        self._check_new_ids(ops)
        self._load_current(ops)
        refs: dict[type[Any], dict[str, list[_Op]]] = defaultdict(dict)
        for op in ops:
            errors = self._validate(op, refs)
            if errors:
                raise BulkRefused(op.tag, errors)
        self._check_refs(ops, refs)
        self._write(ops)

    def _check_new_ids(self, ops: list[_Op]) -> None:
        by_entity: dict[str, list[_Op]] = defaultdict(list)
        for op in ops:
            if op.kind == ChangeKind.create:
                by_entity[op.entity_type].append(op)
        for entity, group in by_entity.items():
            table = MODELS[entity].__table__
            ids = {op.entity_id: op for op in group}
            for chunk in _chunks(list(ids)):
                for found in self.session.scalars(select(table.c.id).where(table.c.id.in_(chunk))):
                    raise BulkRefused(
                        ids[found].tag, [{"path": "", "message": "A record with this id exists"}]
                    )

    def _write(self, ops: list[_Op]) -> None:
        now = self.now
        session = self.session
        ops = sorted(ops, key=lambda op: self._order[op.entity_type])  # stable: parents first
        trans_existing = self._existing_translations(ops)
        categories_before = self._existing_categories(ops)
        inserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        translation_rows: list[dict[str, Any]] = []
        translation_updates: list[dict[str, Any]] = []
        attribute_rows: list[dict[str, Any]] = []
        attribute_deletes: list[uuid.UUID] = []
        link_rows: list[dict[str, Any]] = []
        audit_rows: list[dict[str, Any]] = []
        updates: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
        groups: dict[uuid.UUID, list[_Op]] = defaultdict(list)
        service_touch_locations: set[uuid.UUID] = set()
        service_touch_orgs: set[uuid.UUID] = set()

        for op in ops:
            groups[op.group].append(op)
            entity = op.entity_type
            create = op.kind == ChangeKind.create
            row = op.current
            planned = record_change(entity, op.kind, row, op.cleaned, op.texts, now=now)
            values, changes = planned.values, planned.changes
            version = 1 if create else op.base_version + 1  # type: ignore[operator]
            if create:
                values.update(id=op.entity_id, created_at=now, version=1)
                values.setdefault("archived_at", None)
                inserts[entity].append(values)
            else:
                values["version"] = version
                updates[(entity, tuple(sorted(values)))].append(
                    {**values, "_id": op.entity_id, "_base": op.base_version}
                )
                if entity == "organization":
                    service_touch_orgs.add(op.entity_id)
                elif entity == "location":
                    service_touch_locations.add(op.entity_id)
                elif getattr(row, "location_id", None):
                    service_touch_locations.add(row.location_id)
            # translations other than the source locale: rows of their own
            have = trans_existing.get((entity, op.entity_id), {})
            after_texts = {f"{f}@{loc}": v for (f, loc), (_, v) in have.items()}
            for name, per_locale in planned.translations.items():
                for locale, value in per_locale.items():
                    old = have.get((name, locale))
                    if old is None:
                        translation_rows.append(
                            {
                                "id": uuid.uuid4(),
                                "entity_type": entity,
                                "entity_id": op.entity_id,
                                "field": name,
                                "locale": locale,
                                "value": value,
                                "updated_at": now,
                            }
                        )
                    elif old[1] != value:
                        translation_updates.append(
                            {"_id": old[0], "value": value, "updated_at": now}
                        )
                    text_changes(changes, name, locale, old[1] if old else None, value)
                    after_texts[f"{name}@{locale}"] = value
            if entity == "service" and "categories" in op.cleaned:
                current = categories_before.get(op.entity_id, {})
                codes = op.cleaned["categories"]
                for code, attr_id in current.items():
                    if code not in codes:
                        attribute_deletes.append(attr_id)
                for code in codes:
                    if code not in current:
                        term_id = self._terms[code]
                        attribute_rows.append(
                            {
                                "id": self.attribute_ids.pop((op.entity_id, term_id), None)
                                or uuid.uuid4(),
                                "link_id": op.entity_id,
                                "taxonomy_term_id": term_id,
                                "link_type": "service",
                                "link_entity": "service",
                                "created_at": now,
                                "updated_at": now,
                                "version": 1,
                                "archived_at": None,
                            }
                        )
                category_changes(changes, current, codes)
            if entity == "location" and op.cleaned.get("service_ids"):
                for sid in op.cleaned["service_ids"]:
                    service_id = uuid.UUID(sid)
                    link_rows.append(
                        {
                            "id": self.link_ids.pop((op.entity_id, service_id), None)
                            or uuid.uuid4(),
                            "service_id": service_id,
                            "location_id": op.entity_id,
                            "created_at": now,
                            "updated_at": now,
                            "version": 1,
                            "archived_at": None,
                        }
                    )
                    self._touched_text.add(sid)
                changes["service_ids"] = [None, op.cleaned["service_ids"]]
            if entity == "service":
                self.touched.add(op.entity_id)
            elif op.cleaned.get("service_id"):
                self._touched_text.add(op.cleaned["service_id"])
            elif getattr(row, "service_id", None):
                self.touched.add(row.service_id)
            # the audit entry: what changed, and the whole record after the change
            written = planned.written
            defaults = self._snapshot_defaults[entity]
            if row is None and written.keys() <= defaults.keys():
                # a new record: its fields in FIELDS order, written values over the defaults
                # (what `snapshot_of` builds, without a call per field)
                snap = {**defaults, **written}
                snap["archived_at"] = dump(values.get("archived_at"))
                snap["version"] = version
                snap["translations"] = dict(after_texts)
            else:

                def value_of(
                    name: str, written: Any = written, row: Any = row, d: Any = defaults
                ) -> Any:
                    if name in written:
                        return written[name]
                    return dump(getattr(row, name)) if row is not None else d[name]

                snap = snapshot_of(
                    entity,
                    value_of,
                    archived_at=dump(
                        values.get("archived_at", row.archived_at if row is not None else None)
                    ),
                    version=version,
                    translations=after_texts,
                )
            audit_rows.append(
                {
                    "id": uuid.uuid4(),
                    "at": now,
                    "entity_type": entity,
                    "entity_id": op.entity_id,
                    "entity_version": version,
                    "action": op.kind.value,
                    "change_request_id": op.group,
                    "author_id": None,
                    "approver_id": self.approver.id,
                    "changes": changes,
                    "snapshot": snap,
                }
            )

        # one change request per group, approved by the admin; the audit entries point at it
        cr_rows = []
        group_ids = self._group_crs
        for key, members in groups.items():
            if key in group_ids:
                continue  # a second round: the group's change request is written
            head = next(
                (op for op in members if op.entity_type == "service" and op.entity_id == key), None
            )
            region = next(
                (
                    op.cleaned.get("region_id") or op.cleaned.get("place_id")
                    for op in members
                    if op.entity_type == "location"
                    and (op.cleaned.get("region_id") or op.cleaned.get("place_id"))
                ),
                None,
            )
            cr_id = group_ids[key] = uuid.uuid4()
            cr_rows.append(
                {
                    "id": cr_id,
                    "kind": (head.kind if head is not None else ChangeKind.update),
                    "entity_type": "service",
                    "entity_id": key,
                    "base_version": head.base_version
                    if head is not None and head.kind != ChangeKind.create
                    else None,
                    "payload": {
                        "fields": dict(head.cleaned) if head is not None else {},
                        "translations": head.texts if head is not None else {},
                        "records": [
                            [op.entity_type, str(op.entity_id), op.kind.value] for op in members
                        ],
                    },
                    "comment": self.comment,
                    "state": ChangeState.approved,
                    "author_id": None,
                    "source": self.source,
                    "reviewer_id": self.approver.id,
                    "review_reason": None,
                    "decided_at": now,
                    "needs_review": False,
                    "sensitive": False,
                    "region_id": uuid.UUID(region) if region else None,
                    "service_id": key,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                    "archived_at": None,
                }
            )
        for row in audit_rows:
            row["change_request_id"] = group_ids[row["change_request_id"]]

        for entity in sorted(inserts, key=lambda e: self._order[e]):
            self._insert(MODELS[entity].__table__, inserts[entity])
        for (entity, _keys), rows in updates.items():
            self._update(MODELS[entity].__table__, rows)
        self._insert(m.ServiceAtLocation.__table__, link_rows)
        self._insert(m.Translation.__table__, translation_rows)
        if translation_updates:
            t: Any = m.Translation.__table__
            session.execute(
                update(t)
                .where(t.c.id == bindparam("_id"))
                .values(value=bindparam("value"), updated_at=bindparam("updated_at")),
                translation_updates,
            )
        if attribute_deletes:
            a: Any = m.Attribute.__table__
            for chunk in _chunks(attribute_deletes):
                session.execute(delete(a).where(a.c.id.in_(chunk)))
        self._insert(m.Attribute.__table__, attribute_rows)
        self._insert(ChangeRequest.__table__, cr_rows)
        self._insert(AuditEntry.__table__, audit_rows)
        self.change_requests += len(cr_rows)
        # services whose search documents an updated organisation or place feeds
        if service_touch_orgs:
            for chunk in _chunks(sorted(service_touch_orgs)):
                self.touched |= set(
                    session.scalars(
                        select(m.Service.id).where(m.Service.organization_id.in_(chunk))
                    )
                )
        if service_touch_locations:
            sal = m.ServiceAtLocation.__table__
            for chunk in _chunks(sorted(service_touch_locations)):
                self.touched |= set(
                    session.scalars(select(sal.c.service_id).where(sal.c.location_id.in_(chunk)))
                )

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """INSERT in chunks, the fast way (`directory.fast_insert`: COPY on PostgreSQL)."""
        insert_rows(self.session, table, rows, self.now)

    def _update(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Version-checked UPDATE executemany: every row must match its base version."""
        names = [k for k in rows[0] if not k.startswith("_")]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_base"))
            .values({n: bindparam("v_" + n) for n in names})
        )
        params = [
            {"_id": r["_id"], "_base": r["_base"], **{"v_" + n: r[n] for n in names}} for r in rows
        ]
        sane = self.session.get_bind().dialect.supports_sane_multi_rowcount
        for chunk in _chunks(params) if sane else ([p] for p in params):
            result = self.session.execute(stmt, chunk)
            if result.rowcount != len(chunk):  # type: ignore[attr-defined]
                raise BulkRefused(
                    None,
                    [
                        {
                            "path": "",
                            "message": f"a {table.name} was changed by someone else meanwhile",
                        }
                    ],
                )

    def _existing_translations(
        self, ops: list[_Op]
    ) -> dict[tuple[str, uuid.UUID], dict[tuple[str, str], tuple[uuid.UUID, str]]]:
        out: dict[tuple[str, uuid.UUID], dict[tuple[str, str], tuple[uuid.UUID, str]]] = (
            defaultdict(dict)
        )
        by_entity: dict[str, list[uuid.UUID]] = defaultdict(list)
        for op in ops:
            if op.kind != ChangeKind.create:
                by_entity[op.entity_type].append(op.entity_id)
        t = m.Translation.__table__
        for entity, ids in by_entity.items():
            for chunk in _chunks(ids):
                for row in self.session.execute(
                    select(t.c.id, t.c.entity_id, t.c.field, t.c.locale, t.c.value).where(
                        t.c.entity_type == entity, t.c.entity_id.in_(chunk)
                    )
                ):
                    out[(entity, row.entity_id)][(row.field, row.locale)] = (row.id, row.value)
        return out

    def _existing_categories(self, ops: list[_Op]) -> dict[uuid.UUID, dict[str, uuid.UUID]]:
        ids = [
            op.entity_id
            for op in ops
            if op.entity_type == "service"
            and op.kind != ChangeKind.create
            and "categories" in op.fields
        ]
        out: dict[uuid.UUID, dict[str, uuid.UUID]] = defaultdict(dict)
        a, term = m.Attribute.__table__, m.TaxonomyTerm.__table__
        for chunk in _chunks(ids):
            for link_id, code, attr_id in self.session.execute(
                select(a.c.link_id, term.c.code, a.c.id)
                .join(term, term.c.id == a.c.taxonomy_term_id)
                .where(a.c.link_id.in_(chunk), a.c.link_entity == "service")
            ):
                out[link_id][code] = attr_id
        return out

    # --- the end ------------------------------------------------------------------------------

    def finish(self) -> None:
        """Write what is left, reindex every touched service once, give a new data version."""
        self.flush()
        from directory.listings.generation import bump
        from directory.search.index import reindex_services

        self.touched |= {uuid.UUID(s) for s in self._touched_text}
        self._touched_text.clear()
        if self.touched:
            reindex_services(self.session, sorted(self.touched))
            self.touched.clear()
        bump(self.session)
