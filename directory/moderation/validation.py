"""Validating a proposal: which fields a kind of change may set, each field cleaned
(`fields.clean`), translations checked, required fields, and the cross-field checks
(`_cross_checks`, shared with the bulk writer).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from directory.errors import NotFound, ValidationFailed
from directory.listings import models as m
from directory.moderation.fields import (
    CAPACITY_FIELDS,
    FIELDS,
    MODELS,
    STATUS_FIELDS,
    FieldError,
    clean,
    dump,
)
from directory.moderation.models import ChangeKind, ChangeRequest


def _kind(kind: ChangeKind | str) -> ChangeKind:
    try:
        return ChangeKind(kind)
    except ValueError:
        raise ValidationFailed(
            [{"path": "kind", "code": "unknown_kind", "message": "unknown kind of change"}]
        ) from None


def _model(entity_type: str) -> type[Any]:
    try:
        return MODELS[entity_type]
    except KeyError:
        raise NotFound(f"Unknown record type {entity_type[:40]!r}") from None


def _record(session: Session, cr: ChangeRequest) -> Any:
    return session.get(MODELS[cr.entity_type], cr.entity_id)


def _validate(
    session: Session,
    entity_type: str,
    kind: ChangeKind,
    record: Any,
    changes: dict[str, Any],
    translations: Mapping[str, Mapping[str, Any]],
    *,
    now: dt.datetime,
    pending: frozenset[uuid.UUID] = frozenset(),
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    specs = FIELDS[entity_type]
    errors: list[dict[str, str]] = []
    allowed: Iterable[str] = specs
    if kind == ChangeKind.status:
        allowed = STATUS_FIELDS
    elif kind == ChangeKind.capacity:
        allowed = CAPACITY_FIELDS
    elif kind in (ChangeKind.archive, ChangeKind.restore, ChangeKind.verify):
        allowed = ()
    elif kind in (ChangeKind.update, ChangeKind.revert):
        allowed = [f for f in specs if f != "service_ids"]
    allowed = set(allowed)

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
            cleaned[name] = clean(session, specs[name], value, now=now, pending=pending)
        except FieldError as exc:
            errors.append(exc.at(name))

    texts: dict[str, dict[str, str]] = {}
    if translations and kind not in (ChangeKind.archive, ChangeKind.restore, ChangeKind.verify):
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
                if not isinstance(locale, str) or session.get(m.Locale, locale) is None:
                    errors.append(
                        {"path": path, "code": "unknown_locale", "message": "unknown locale"}
                    )
                    continue
                try:
                    text = clean(session, spec, value, now=now)
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
    if errors:
        raise ValidationFailed(errors)
    if kind in (ChangeKind.update, ChangeKind.status, ChangeKind.capacity) and not (
        cleaned or texts
    ):
        raise ValidationFailed(
            [{"path": "", "code": "nothing_to_change", "message": "nothing to change"}]
        )
    return cleaned, texts


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
