"""Cleaning the values of one imported record with the write path's own rules
(`moderation.fields`), shared by the HSDS and the spreadsheet mappings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from directory.exchange.import_records import Context, Rec
from directory.exchange.import_report import Problem, Report
from directory.exchange.readers import SRC, Item
from directory.exchange.records import EXT
from directory.exchange.safety import is_formula, unneutralise_cell
from directory.listings import models as m
from directory.moderation.fields import FIELDS, F, FieldError, clean

_NO_FUTURE = {"status_until"}  # a past "until" in a file is history, not an error
_UNCHECKED: dict[int, F] = {}
# References to records the same file may create further on: checked by the write path.
_LATER_REFS = {"alternative_service_id"}
_UNREFERENCED: dict[int, F] = {}
#: kinds whose text `_coerce` converts; first characters of a cell it may change or refuse
_COERCED_KINDS = frozenset({"int", "bool", "decimal"})
_CELL_MARKS = frozenset({"'", "="})


def _without_check(spec: F) -> F:
    """`spec` without its `check` (made once per spec, not once per record)."""
    out = _UNCHECKED.get(id(spec))
    if out is None:
        out = _UNCHECKED[id(spec)] = dataclasses.replace(spec, check="")
    return out


def _without_ref(spec: F) -> F:
    """`spec` without its reference check (the write path checks it, when all is written)."""
    out = _UNREFERENCED.get(id(spec))
    if out is None:
        out = _UNREFERENCED[id(spec)] = dataclasses.replace(spec, ref=None)
    return out


def _coerce(spec: F, value: Any, textual: bool) -> Any:
    """Text from CSV cells (and JSON numbers) into the types the field rules expect."""
    if value is None:
        return None
    if isinstance(value, str):
        value = unneutralise_cell(value)
        if is_formula(value) and value.startswith("="):
            raise FieldError("looks like a spreadsheet formula; type the value itself")
    if value is None or (textual and value == ""):
        return None
    if spec.kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise FieldError("must be a whole number") from None
    if spec.kind == "bool" and isinstance(value, str):
        v = value.strip().casefold()
        if v in ("yes", "y", "true", "1", "так", "да", "tak", "ja", "نعم"):
            return True
        if v in ("no", "n", "false", "0", "ні", "нет", "nie", "nein", "لا"):
            return False
        raise FieldError("must be yes or no")
    if spec.kind == "decimal" and isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise FieldError("must be a number") from None
    if (
        spec.kind in ("str", "text")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return str(value)
    return value


def clean_payload(
    ctx: Context,
    report: Report,
    entity: str,
    raw: dict[str, Any],
    *,
    names: Iterable[str],
    where: tuple[str, int | None, str],
    textual: bool,
    partial: bool,
    present: set[str] | None = None,
    specs: dict[str, F] | None = None,
) -> dict[str, Any] | None:
    """Validate the fields of one record with the write path's own rules (moderation.fields;
    `specs`: other rules, for what the file keeps beside the fields)."""
    specs = specs or FIELDS[entity]
    out: dict[str, Any] = {}
    ok = True
    file, line, path = where
    for name in names:
        if partial and present is not None and name not in present:
            continue
        spec = specs[name]
        if name in _NO_FUTURE:
            spec = _without_check(spec)
        elif name in _LATER_REFS:
            spec = _without_ref(spec)
        try:
            value = raw.get(name)
            # Most values are text that needs no coercion (not a number, flag or decimal
            # field, not a neutralised or formula-looking cell): what `_coerce` returns for
            # them is the value itself, without the call.
            if (
                type(value) is not str
                or spec.kind in _COERCED_KINDS
                or (value[:1] in _CELL_MARKS if value else textual)
            ):
                value = _coerce(spec, value, textual)
            if value is None:
                if spec.required:
                    raise FieldError("is required")
                if not spec.nullable:
                    if spec.kind in ("str", "text") and name not in ("source_locale", "timezone"):
                        out[name] = ""
                    continue
                out[name] = None
                continue
            out[name] = ctx.clean(spec, value)
        except FieldError as exc:
            ok = False
            report.error(Problem(file, line, path, name, str(exc)))
    return out if ok else None


def where_of(obj: dict[str, Any], item: Item, path: str) -> tuple[str, int | None, str]:
    src = obj.get(SRC)
    if src:  # a row of a CSV table: its file and line say where
        return src[0], src[1], ""
    return item.file, item.line, path


def uuid_or(value: Any, fallback: Callable[[], uuid.UUID]) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return fallback()


def list_of(value: Any) -> list[Any]:
    """A nested list of an extension field (a JSON cell of the tabular form is decoded already)."""
    return value if isinstance(value, list) else []


def expire_status(
    ctx: Context, report: Report, payload: dict[str, Any], where: tuple[str, int | None, str]
) -> None:
    """A temporary status whose `until` has passed is over: the service is active again."""
    until = payload.get("status_until")
    if until and dt.datetime.fromisoformat(until) <= ctx.now:
        report.warn(
            Problem(
                *where,
                "status_until",
                f"{until} has passed: the temporary status ended, imported as active",
            )
        )
        payload["status_until"] = None
        payload["status_reason"] = None
        payload["status_reason_code"] = None
        if "status" in payload:
            payload["status"] = m.ServiceStatus.active.value


def unique_children(ctx: Context, children: list[Rec]) -> list[Rec]:
    """HSDS nests the same record in several places (a schedule under the service and again
    under its location): one id is one record, the first occurrence counts."""
    out = []
    for child in children:
        seen = ctx.seen["child-" + child.entity]
        if child.id not in seen:
            seen.add(child.id)
            out.append(child)
    return out


def check_location(
    report: Report, payload: dict[str, Any], where: tuple[str, int | None, str]
) -> None:
    avail, total = payload.get("capacity_available"), payload.get("capacity_maximum")
    if avail is not None and total is not None and avail > total:
        report.error(Problem(*where, "capacity_available", "free places cannot exceed the total"))
    if (payload.get("latitude") is None) != (payload.get("longitude") is None):
        report.error(
            Problem(
                *where,
                "longitude" if payload.get("longitude") is None else "latitude",
                "latitude and longitude go together",
            )
        )


def place_ref(
    ctx: Context, report: Report, ref: Any, kind: str, where: tuple[str, int | None, str]
) -> str | None:
    if ref in (None, "", {}):
        return None
    found = ctx.places.find(ref, kind)
    if found is None:
        label = ref.get("name") if isinstance(ref, dict) else ref
        report.warn(
            Problem(
                where[0],
                None,
                "",
                kind,
                f"{str(label)[:80]!r} is not in the directory's gazetteer: left empty",
            )
        )
        return None
    return str(found)


def child_rec(
    ctx: Context,
    report: Report,
    entity: str,
    obj: Any,
    mapping: dict[str, str],
    where: tuple[str, int | None, str],
    textual: bool,
    parent: dict[str, uuid.UUID],
    names: Iterable[str] | None = None,
) -> Rec | None:
    if not isinstance(obj, dict):
        report.error(Problem(*where, "", "must be an object"))
        return None
    raw = mapped(obj, mapping)
    if entity == "phone" and raw.get("extension") is None and obj.get(EXT + "extension"):
        raw["extension"] = obj.get(EXT + "extension")
    if entity == "phone" and raw.get("is_hotline") is None:
        raw["is_hotline"] = False
    payload = clean_payload(
        ctx,
        report,
        entity,
        raw,
        names=names or mapping,
        where=where,
        textual=textual,
        partial=False,
    )
    if payload is None:
        return None
    cid = uuid_or(
        obj.get("id"),
        lambda: ctx.derived_id(
            entity, repr(sorted(parent.items())) + repr(sorted(payload.items()))
        ),
    )
    for key, value in parent.items():
        payload[key] = str(value)
    return Rec(entity, cid, payload, *where, parent=dict(parent))


def assured(data: dict[str, Any]) -> Any:
    """The verification time: our `x_assured_at` (exact), else HSDS `assured_date` (a date:
    its midnight UTC)."""
    exact = data.get(EXT + "assured_at")
    if exact:
        return exact
    day = data.get("assured_date")
    if isinstance(day, str) and len(day) == 10:
        return day + "T00:00:00+00:00"
    return day or None


def mapped(obj: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    return {name: obj.get(key) for name, key in mapping.items()}


def translations_of(
    ctx: Context,
    report: Report,
    entity: str,
    obj: dict[str, Any],
    where: tuple[str, int | None, str],
) -> dict[str, dict[str, str]]:
    raw = obj.get(EXT + "translations")
    out: dict[str, dict[str, str]] = {}
    if not isinstance(raw, dict):
        return out
    specs = FIELDS[entity]
    for name, per_locale in raw.items():
        spec = specs.get(name)
        if spec is None or not spec.translatable or not isinstance(per_locale, dict):
            continue
        for locale, text in per_locale.items():
            if locale not in ctx.locales:
                report.error(
                    Problem(
                        where[0],
                        where[1],
                        where[2] + f".{EXT}translations.{name}",
                        name,
                        f"unknown locale {str(locale)[:12]!r}",
                    )
                )
                continue
            try:
                value = clean(ctx.session, spec, text, now=ctx.now)
            except FieldError as exc:
                report.error(
                    Problem(
                        where[0],
                        where[1],
                        where[2] + f".{EXT}translations.{name}.{locale}",
                        name,
                        str(exc),
                    )
                )
                continue
            if value:
                out.setdefault(name, {})[locale] = value
    return out
