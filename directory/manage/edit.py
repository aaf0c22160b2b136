"""The full edit form of a listing: its fields as form values, and the submitted form as the
change requests it amounts to (only what changed, one per record, each version-checked).

Shape conversion only: validation and every rule stay in `directory.moderation`. `submit`
proposes all changes of one form inside one savepoint, so a form is taken whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.errors import DomainError, ValidationFailed
from directory.i18n import format_phone, phone_e164
from directory.listings.privacy import is_locating
from directory.manage.forms import TRANSLATION_LOCALES, WEEKDAYS
from directory.manage.queries import LOCATION_TEXT_FIELDS, SERVICE_TEXT_FIELDS, Listing
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest

SERVICE_FIELDS = ("url", "email")
SERVICE_BOOLS = ("free_of_charge", "open_during_alert")
LOCATION_BOOLS = (
    "has_heating",
    "has_power",
    "has_water",
    "has_internet",
    "has_toilets",
    "wheelchair_accessible",
    "pets_allowed",
    "women_children_only",
    "open_24_7",
)
ADDRESS_FIELDS = ("address_1", "city", "postal_code", "country")


@dataclass
class Proposal:
    """One change request to make: which record, what changes, on which version."""

    entity_type: str
    kind: str
    entity_id: uuid.UUID | None
    base_version: int | None
    changes: dict[str, Any] = field(default_factory=dict)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    prefix: str = ""  # form field prefix, to put errors next to their inputs


class EditRefused(Exception):
    """A proposal of the form was refused; `errors` maps form field names to service details."""

    def __init__(self, error: DomainError, prefix: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.prefix = prefix


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _tri(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def locating_key(key: str) -> bool:
    """Does a form field name carry where the place is (`listings.privacy.LOCATING_FIELDS`, and
    the whole address and privacy block)? Those are neither shown to nor taken from a person
    who may not see the place's whereabouts."""
    parts = key.split(".")
    if parts[0] in ("t", "v") and len(parts) >= 3:
        parts = parts[1:]
    if parts[0] == "address":
        return True
    return (
        parts[0] == "location"
        and len(parts) >= 2
        and (parts[1] == "privacy" or is_locating("location", parts[1]))
    )


def form_values(listing: Listing, *, hide_locating: bool = False) -> dict[str, str]:
    """The published listing as flat form values (the names the template and `proposals` use);
    with `hide_locating`, without a word of where the place is (`locating_key`)."""
    values = _form_values(listing)
    if hide_locating:
        values = {k: v for k, v in values.items() if not locating_key(k) or k == "v.location"}
    return values


def _form_values(listing: Listing) -> dict[str, str]:
    svc, loc, addr = listing.service, listing.location, listing.address
    values: dict[str, str] = {"v.service": str(svc.version)}
    for name in SERVICE_FIELDS:
        values[f"service.{name}"] = _s(getattr(svc, name))
    for name in SERVICE_BOOLS:
        values[f"service.{name}"] = _tri(getattr(svc, name))
    for (etype, name), per in listing.texts.items():
        for locale, text in per.items():
            values[f"t.{etype}.{name}.{locale}"] = text
    if loc is not None:
        values["v.location"] = str(loc.version)
        values["location.latitude"] = _s(
            loc.latitude.normalize() if loc.latitude is not None else None
        )
        values["location.longitude"] = _s(
            loc.longitude.normalize() if loc.longitude is not None else None
        )
        values["location.privacy"] = _s(loc.privacy)
        values["location.shelter_type"] = _s(loc.shelter_type)
        values["location.capacity_maximum"] = _s(loc.capacity_maximum)
        for name in LOCATION_BOOLS:
            values[f"location.{name}"] = _tri(getattr(loc, name))
    if addr is not None:
        values["v.address"] = str(addr.version)
        for name in ADDRESS_FIELDS:
            values[f"address.{name}"] = _s(getattr(addr, name))
    for p in listing.phones:
        values[f"v.phone.{p.id}"] = str(p.version)
        values[f"phone.{p.id}.number"] = format_phone(p.number)  # grouped as people dial it
        values[f"phone.{p.id}.description"] = _s(p.description)
    for h in listing.hours:
        values[f"v.hours.{h.id}"] = str(h.version)
        values[f"hours.{h.id}.days"] = h.byday
        values[f"hours.{h.id}.opens"] = h.opens_at.strftime("%H:%M") if h.opens_at else ""
        values[f"hours.{h.id}.closes"] = h.closes_at.strftime("%H:%M") if h.closes_at else ""
    return values


class _Without(dict[str, Any]):
    """A form without its locating fields (a tampered form cannot write them blind)."""

    def __init__(self, form: Mapping[str, Any]) -> None:
        super().__init__({k: v for k, v in form.items() if not locating_key(k)})
        self._form = form

    def getlist(self, key: str) -> list[Any]:
        getlist = getattr(self._form, "getlist", None)
        return [] if locating_key(key) or getlist is None else list(getlist(key))


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name, "")).strip()


def _number(value: str) -> Any:
    """Typed numbers stay strings when they are not numbers: the service explains the error."""
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _same_decimal(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False


def proposals(
    listing: Listing,
    form: Mapping[str, Any],
    *,
    versions: Mapping[str, str],
    categories: list[str],
    hide_locating: bool = False,
) -> list[Proposal]:
    """What the submitted form changes, record by record (unchanged records propose nothing).
    With `hide_locating`, locating fields are neither read from the form nor proposed."""
    before = form_values(listing, hide_locating=hide_locating)
    if hide_locating:
        form = _Without(form)
    out: list[Proposal] = []

    def version(key: str) -> int | None:
        raw = versions.get(key, "")
        return int(raw) if raw.isdigit() else None

    # service
    svc = listing.service
    p = Proposal("service", "update", svc.id, version("v.service"), prefix="service.")
    for name in SERVICE_FIELDS:
        new = _text(form, f"service.{name}")
        if new != before.get(f"service.{name}", ""):
            p.changes[name] = new or None
    for name in SERVICE_BOOLS:
        new = _text(form, f"service.{name}")
        if new != before.get(f"service.{name}", ""):
            p.changes[name] = {"yes": True, "no": False}.get(new)
    if sorted(categories) != sorted(listing.categories):
        p.changes["categories"] = sorted(categories)
    _texts(p, "service", SERVICE_TEXT_FIELDS, form, before)
    if p.changes or p.translations:
        out.append(p)

    loc = listing.location
    if loc is not None:
        p = Proposal("location", "update", loc.id, version("v.location"), prefix="location.")
        for name in ("latitude", "longitude"):
            new = _text(form, f"location.{name}").replace(",", ".")
            old = before.get(f"location.{name}", "")
            if new != old and not (new and old and _same_decimal(new, old)):
                p.changes[name] = new or None
        for name in ("privacy", "shelter_type"):
            new = _text(form, f"location.{name}")
            if new != before.get(f"location.{name}", ""):
                p.changes[name] = new or None
        new = _text(form, "location.capacity_maximum")
        if new != before.get("location.capacity_maximum", ""):
            p.changes["capacity_maximum"] = _number(new)
        for name in LOCATION_BOOLS:
            new = _text(form, f"location.{name}")
            if new != before.get(f"location.{name}", ""):
                p.changes[name] = {"yes": True, "no": False}.get(new)
        _texts(p, "location", LOCATION_TEXT_FIELDS, form, before)
        if p.changes or p.translations:
            out.append(p)

        addr = listing.address
        typed = {n: _text(form, f"address.{n}") for n in ADDRESS_FIELDS}
        if addr is not None:
            p = Proposal("address", "update", addr.id, version("v.address"), prefix="address.")
            for name, new in typed.items():
                if new != before.get(f"address.{name}", ""):
                    p.changes[name] = new or None
            if p.changes:
                out.append(p)
        elif any(typed.values()):
            out.append(
                Proposal(
                    "address",
                    "create",
                    None,
                    None,
                    prefix="address.",
                    changes={"location_id": str(loc.id), **typed},
                )
            )

    for phone in listing.phones:
        number = _text(form, f"phone.{phone.id}.number")
        description = _text(form, f"phone.{phone.id}.description")
        key = f"v.phone.{phone.id}"
        if not number:
            out.append(
                Proposal("phone", "archive", phone.id, version(key), prefix=f"phone.{phone.id}.")
            )
            continue
        p = Proposal("phone", "update", phone.id, version(key), prefix=f"phone.{phone.id}.")
        if phone_e164(number) != phone_e164(phone.number):  # "+380 44 …" is the same number
            p.changes["number"] = number
        if description != (phone.description or ""):
            p.changes["description"] = description or None
        if p.changes:
            out.append(p)
    number = _text(form, "phone.new.number")
    if number:
        owner = {"location_id": str(loc.id)} if loc is not None else {"service_id": str(svc.id)}
        out.append(
            Proposal(
                "phone",
                "create",
                None,
                None,
                prefix="phone.new.",
                changes={
                    **owner,
                    "number": number,
                    "description": _text(form, "phone.new.description") or None,
                },
            )
        )

    for h in listing.hours:
        days = _days(form, f"hours.{h.id}.days")
        opens, closes = _text(form, f"hours.{h.id}.opens"), _text(form, f"hours.{h.id}.closes")
        key = f"v.hours.{h.id}"
        if not days:
            out.append(Proposal("schedule", "archive", h.id, version(key), prefix=f"hours.{h.id}."))
            continue
        p = Proposal("schedule", "update", h.id, version(key), prefix=f"hours.{h.id}.")
        if days != h.byday:
            p.changes["byday"] = days
        if opens != (h.opens_at.strftime("%H:%M") if h.opens_at else ""):
            p.changes["opens_at"] = opens or None
        if closes != (h.closes_at.strftime("%H:%M") if h.closes_at else ""):
            p.changes["closes_at"] = closes or None
        if p.changes:
            out.append(p)
    days = _days(form, "hours.new.days")
    if days:
        owner = {"location_id": str(loc.id)} if loc is not None else {"service_id": str(svc.id)}
        out.append(
            Proposal(
                "schedule",
                "create",
                None,
                None,
                prefix="hours.new.",
                changes={
                    **owner,
                    "freq": "WEEKLY",
                    "byday": days,
                    "opens_at": _text(form, "hours.new.opens") or None,
                    "closes_at": _text(form, "hours.new.closes") or None,
                },
            )
        )
    return out


def _days(form: Any, name: str) -> str:
    chosen = form.getlist(name) if hasattr(form, "getlist") else [form.get(name, "")]
    picked = {d for v in chosen for d in str(v).upper().split(",") if d in WEEKDAYS}
    return ",".join(d for d in WEEKDAYS if d in picked)


def _texts(
    p: Proposal,
    etype: str,
    names: tuple[str, ...],
    form: Mapping[str, Any],
    before: Mapping[str, str],
) -> None:
    for name in names:
        for locale in TRANSLATION_LOCALES:
            key = f"t.{etype}.{name}.{locale}"
            new = _text(form, key)
            # An emptied box keeps the text (the service does not delete texts through a form).
            if new and new != before.get(key, ""):
                p.translations.setdefault(name, {})[locale] = new


def submit(
    session: Session,
    *,
    actor: Account,
    items: list[Proposal],
    comment: str | None,
    trusted_publish: bool,
    now: dt.datetime | None = None,
) -> list[ChangeRequest]:
    """Propose every change of one form; all or nothing (one savepoint)."""
    if not items:
        raise ValidationFailed(
            [{"path": "", "code": "nothing_to_change", "message": "nothing to change"}]
        )
    done: list[ChangeRequest] = []
    with session.begin_nested():
        for item in items:
            try:
                done.append(
                    moderation.propose(
                        session,
                        actor=actor,
                        entity_type=item.entity_type,
                        kind=item.kind,
                        entity_id=item.entity_id,
                        changes=item.changes or None,
                        translations=item.translations or None,
                        base_version=item.base_version,
                        comment=comment,
                        source="web",
                        trusted_publish=trusted_publish,
                        now=now,
                    )
                )
            except DomainError as exc:
                raise EditRefused(exc, item.prefix) from exc
    return done
