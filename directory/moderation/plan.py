"""One rule, two writers: the pure planner of a record's change.

Both write paths ask this module what a change of one record is, and differ only in how they
write it:

- the per-record path (`validation._validate` → `apply._apply`): ORM objects, one change request
  and one audit entry per record, for every proposal and approval;
- the set-based bulk writer (`bulk.BulkPublisher`): Core INSERT/UPDATE set by set, for large
  imports published at once.

`check` validates a proposal (which fields a kind of change may set, each value cleaned, the
translations, required fields, the cross-field checks, "nothing to change"); how one value is
cleaned and whether a locale exists are the writer's (`clean_value`, `clean_text`,
`known_locale`: the per-record path asks the session, the bulk writer remembers and defers the
reference checks to one IN query per table). `record_change` computes what a validated change
writes to the record's columns and the audit log's before/after; `snapshot_of` is the record as
its audit entry stores it. Nothing here reads or writes the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from directory.listings import models as m
from directory.moderation.fields import (
    CAPACITY_FIELDS,
    FIELDS,
    STATUS_FIELDS,
    VIRTUAL_FIELDS,
    F,
    FieldError,
    dump,
    load,
)
from directory.moderation.models import ChangeKind

#: Kinds that change no field (and take no translations).
NO_FIELDS = (ChangeKind.archive, ChangeKind.restore, ChangeKind.verify)
#: Kinds that must change something.
MUST_CHANGE = (ChangeKind.update, ChangeKind.status, ChangeKind.capacity)
#: Cleared when a service goes back to active, unless the same change sets them.
CLEARED_WITH_ACTIVE = ("status_reason", "status_reason_code", "status_until", "status_since")
#: Kinds whose JSON value `load` converts (ids, numbers, dates, times); any other field's
#: value is its column value as it is.
_LOADED_KINDS = frozenset({"decimal", "uuid", "date", "time", "datetime"})
_LOADED: dict[str, frozenset[str]] = {}


def _loaded(entity_type: str) -> frozenset[str]:
    """The fields of `entity_type` that `load` converts (remembered per record type)."""
    out = _LOADED.get(entity_type)
    if out is None:
        specs = FIELDS[entity_type]
        out = _LOADED[entity_type] = frozenset(
            n for n, spec in specs.items() if spec.kind in _LOADED_KINDS
        )
    return out


Errors = list[dict[str, Any]]


def allowed_fields(entity_type: str, kind: ChangeKind) -> set[str]:
    """The fields a change of `kind` may set on a record of `entity_type`."""
    specs = FIELDS[entity_type]
    if kind == ChangeKind.status:
        return set(STATUS_FIELDS)
    if kind == ChangeKind.capacity:
        return set(CAPACITY_FIELDS)
    if kind in NO_FIELDS:
        return set()
    if kind in (ChangeKind.update, ChangeKind.revert):
        return {f for f in specs if f != "service_ids"}
    return set(specs)


def check(
    entity_type: str,
    kind: ChangeKind,
    record: Any,
    changes: Mapping[str, Any],
    translations: Mapping[str, Any],
    *,
    now: dt.datetime,
    clean_value: Callable[[str, F, Any], Any],
    clean_text: Callable[[F, Any], Any],
    known_locale: Callable[[str], bool],
) -> tuple[dict[str, Any], dict[str, dict[str, str]], Errors]:
    """Validate a proposed change of one record (`record`: its current state, None for a
    create). Returns the cleaned fields, the cleaned translations and the errors (each with a
    `path`); the change is refused when there are errors."""
    specs = FIELDS[entity_type]
    errors: Errors = []
    allowed = allowed_fields(entity_type, kind)

    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in allowed:
            errors.append(
                {
                    "path": str(name)[:60],
                    "code": "not_changeable",
                    "message": "cannot be changed here",
                }
            )
            continue
        try:
            cleaned[name] = clean_value(name, specs[name], value)
        except FieldError as exc:
            errors.append(exc.at(name))

    texts: dict[str, dict[str, str]] = {}
    if translations and kind not in NO_FIELDS:
        for name, per_locale in translations.items():
            spec = specs.get(name)
            if spec is None or not spec.translatable or name not in allowed:
                errors.append(
                    {
                        "path": f"translations/{str(name)[:60]}",
                        "code": "not_translatable",
                        "message": "is not translatable",
                    }
                )
                continue
            if not isinstance(per_locale, Mapping):
                errors.append(
                    {
                        "path": f"translations/{name}",
                        "code": "bad_translations",
                        "message": "must map locales to texts",
                    }
                )
                continue
            for locale, value in per_locale.items():
                path = f"translations/{name}/{str(locale)[:12]}"
                if not isinstance(locale, str) or not known_locale(locale):
                    errors.append(
                        {"path": path, "code": "unknown_locale", "message": "unknown locale"}
                    )
                    continue
                try:
                    text = clean_text(spec, value)
                except FieldError as exc:
                    errors.append(exc.at(path))
                    continue
                if text:
                    texts.setdefault(name, {})[locale] = text

    if kind == ChangeKind.create:
        for name, spec in specs.items():
            if spec.required and name not in cleaned and not any(e["path"] == name for e in errors):
                errors.append({"path": name, "code": "required", "message": "is required"})
    if not errors:
        errors.extend(_cross_checks(entity_type, kind, record, cleaned, now=now))
    if not errors and kind in MUST_CHANGE and not (cleaned or texts):
        errors.append({"path": "", "code": "nothing_to_change", "message": "nothing to change"})
    return cleaned, texts, errors


def _merged(record: Any, cleaned: dict[str, Any], name: str) -> Any:
    if name in cleaned:
        return cleaned[name]
    return dump(getattr(record, name, None)) if record is not None else None


def _cross_checks(
    entity_type: str, kind: ChangeKind, record: Any, cleaned: dict[str, Any], *, now: dt.datetime
) -> list[dict[str, str]]:
    errors = []
    if entity_type == "location":
        avail = _merged(record, cleaned, "capacity_available")
        total = _merged(record, cleaned, "capacity_maximum")
        if avail is not None and total is not None and avail > total:
            errors.append(
                {
                    "path": "capacity_available"
                    if "capacity_available" in cleaned
                    else "capacity_maximum",
                    "code": "free_places_over_total",
                    "message": "free places cannot exceed the total",
                }
            )
        lat, lon = _merged(record, cleaned, "latitude"), _merged(record, cleaned, "longitude")
        if (lat is None) != (lon is None):
            errors.append(
                {
                    "path": "longitude" if lon is None else "latitude",
                    "code": "coordinates_pair",
                    "message": "latitude and longitude go together",
                }
            )
    if entity_type == "service":
        lo, hi = _merged(record, cleaned, "minimum_age"), _merged(record, cleaned, "maximum_age")
        if lo is not None and hi is not None and hi < lo:
            errors.append(
                {
                    "path": "maximum_age",
                    "code": "ages_order",
                    "message": "must not be below minimum_age",
                }
            )
    if (
        entity_type in ("phone",)
        and kind == ChangeKind.create
        and not any(cleaned.get(k) for k in ("location_id", "service_id", "organization_id"))
    ):
        errors.append(
            {
                "path": "service_id",
                "code": "needs_owner",
                "message": "a phone belongs to a service, location or organization",
            }
        )
    if (
        entity_type == "schedule"
        and kind == ChangeKind.create
        and not any(cleaned.get(k) for k in ("location_id", "service_id"))
    ):
        errors.append(
            {
                "path": "service_id",
                "code": "needs_owner",
                "message": "a schedule belongs to a service or location",
            }
        )
    if (
        entity_type in ("language", "schedule_exception")
        and kind == ChangeKind.create
        and not any(cleaned.get(k) for k in ("location_id", "service_id"))
    ):
        errors.append(
            {
                "path": "service_id",
                "code": "needs_owner",
                "message": f"a {entity_type.replace('_', ' ')} belongs to a service or location",
            }
        )
    if entity_type in ("schedule", "schedule_exception"):
        opens, closes = _merged(record, cleaned, "opens_at"), _merged(record, cleaned, "closes_at")
        if (opens is None) != (closes is None):
            errors.append(
                {
                    "path": "closes_at",
                    "code": "hours_pair",
                    "message": "opens_at and closes_at go together",
                }
            )
        vf, vt = _merged(record, cleaned, "valid_from"), _merged(record, cleaned, "valid_to")
        if vf and vt and vt < vf:
            errors.append(
                {
                    "path": "valid_to",
                    "code": "dates_order",
                    "message": "must not be before valid_from",
                }
            )
    if entity_type == "notice":
        vf = _merged(record, cleaned, "valid_from") or now.isoformat()
        vu = _merged(record, cleaned, "valid_until")
        if vu is not None and dt.datetime.fromisoformat(vu) <= dt.datetime.fromisoformat(vf):
            errors.append(
                {
                    "path": "valid_until",
                    "code": "dates_order",
                    "message": "must be after valid_from",
                }
            )
    return errors


@dataclass
class RecordChange:
    """What a validated change writes to one record."""

    #: column → value as the column takes it (JSON values loaded, timestamps as datetimes)
    values: dict[str, Any] = field(default_factory=dict)
    #: the audit entry's {field: [before, after]} (JSON form); translations as `field@locale`
    changes: dict[str, list[Any]] = field(default_factory=dict)
    #: texts stored as translation rows: every locale but the record's source locale
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the editable fields written, in JSON form (the snapshot's values for them)
    written: dict[str, Any] = field(default_factory=dict)
    #: the record's source locale (a text in it is the column itself)
    source_locale: str = "en"


def record_change(
    entity_type: str,
    kind: ChangeKind,
    current: Any,
    fields_in: Mapping[str, Any],
    texts: Mapping[str, Mapping[str, str]],
    *,
    now: dt.datetime,
    restore_archived: Any = "unchanged",
) -> RecordChange:
    """The columns a validated change of one record sets and their audit before/after.

    `current`: the record as it is (an ORM object or a row; None for a create); `fields_in`,
    `texts`: the cleaned values (`check`); `restore_archived`: a revert's archived_at at the
    version it restores ("unchanged" when it does not move it). Besides the fields: a text in
    the record's source locale is its column; archive/restore move archived_at; a capacity
    update stamps capacity_updated; a status change stamps status_since, and back to active
    clears the reason and the dates it does not set; updated_at is always written (an UPDATE
    always moves the version, so it is always checked)."""
    specs = FIELDS[entity_type]
    create = kind == ChangeKind.create
    out = RecordChange()
    values, changes, written = out.values, out.changes, out.written

    def before(name: str) -> Any:
        return None if create else dump(getattr(current, name))

    source = (
        (getattr(current, "source_locale", None) if current is not None else None)
        or fields_in.get("source_locale")
        or "en"
    )
    out.source_locale = source
    loaded = _loaded(entity_type)
    for name, value in fields_in.items():
        if name in VIRTUAL_FIELDS:
            continue
        old = before(name)
        if old != value:
            changes[name] = [old, value]
        values[name] = load(specs[name], value) if name in loaded else value
        written[name] = value
    # A text in the record's own source locale is its column; others are translation rows.
    for name, per_locale in texts.items():
        rows = dict(per_locale)
        if source in rows:
            value = rows.pop(source)
            old = before(name)
            if old != value:
                changes[name] = [old, value]
            values[name] = value
            written[name] = value
        if rows:
            out.translations[name] = rows

    if kind == ChangeKind.archive:
        changes["archived_at"] = [dump(current.archived_at), now.isoformat()]
        values["archived_at"] = now
    elif kind == ChangeKind.restore:
        changes["archived_at"] = [dump(current.archived_at), None]
        values["archived_at"] = None
    elif kind == ChangeKind.capacity:
        changes["capacity_updated"] = [dump(current.capacity_updated), now.isoformat()]
        values["capacity_updated"] = now
    elif kind == ChangeKind.status:
        if fields_in.get("status") == m.ServiceStatus.active.value:
            for name in CLEARED_WITH_ACTIVE:
                if getattr(current, name) is not None and name not in fields_in:
                    changes[name] = [dump(getattr(current, name)), None]
                    values[name] = None
        elif "status" in fields_in:
            changes["status_since"] = [dump(current.status_since), now.isoformat()]
            values["status_since"] = now
    if kind == ChangeKind.revert and restore_archived != "unchanged":
        changes["archived_at"] = [dump(current.archived_at), restore_archived]
        values["archived_at"] = (
            dt.datetime.fromisoformat(restore_archived) if restore_archived else None
        )
    values["updated_at"] = now
    return out


def text_changes(
    changes: dict[str, list[Any]], name: str, locale: str, before: Any, after: Any
) -> None:
    """Note a translation row's before/after in the audit's changes (when it moved)."""
    if before != after:
        changes[f"{name}@{locale}"] = [before, after]


def category_changes(
    changes: dict[str, list[Any]], before: Iterable[str], after: list[str]
) -> None:
    """Note a service's categories before/after (sorted codes) when they moved."""
    old = sorted(before)
    if old != after:
        changes["categories"] = [old, after]


def snapshot_of(
    entity_type: str,
    value_of: Callable[[str], Any],
    *,
    archived_at: Any,
    version: int,
    translations: Mapping[str, str],
) -> dict[str, Any]:
    """The record as its audit entry stores it: every editable field (JSON form, from
    `value_of(name)`), archived_at, version and the translations as {"field@locale": text}."""
    out: dict[str, Any] = {
        name: value_of(name) for name in FIELDS[entity_type] if name not in VIRTUAL_FIELDS
    }
    out["archived_at"] = archived_at
    out["version"] = version
    out["translations"] = dict(translations)
    return out
