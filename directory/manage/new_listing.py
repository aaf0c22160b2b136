"""A new listing proposed from the manage app: the service (of an existing organisation, or of a
new one named in the form), its place with the address, the phone number and the weekly hours —
proposed together as ONE group of change requests (`moderation.propose_group`).

A moderator reviews the whole new listing on one page and approves it (everything is published
at once, parents first) or rejects it with a reason. A moderator's own new listing with an
address or phone still waits for a second moderator (fraud guard); without them it is published
at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.errors import DomainError, ValidationFailed
from directory.listings import models as m
from directory.listings.tree import places_up
from directory.manage.edit import EditRefused
from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SPAN = re.compile(
    r"^(?P<days>[A-Za-z,\- ]+?)\s+(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})$"
)

#: Which form field shows a refusal of a record's field (record type, field) → form name.
_FORM_FIELD = {
    ("organization", "name"): "organization_name",
    ("address", "address_1"): "address",
    ("address", "city"): "city",
    ("address", "country"): "country",
    ("phone", "number"): "number",
    ("location", "name"): "name",
}


class HoursError(ValueError):
    """The hours could not be read."""


def parse_hours(text: str) -> list[dict[str, str]]:
    """`MO-FR 09:00-18:00; SA 10:00-14:00` (days as MO TU WE TH FR SA SU, ranges or lists) →
    weekly schedules. Raises HoursError."""
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            raise HoursError(part)
        days: list[str] = []
        for chunk in match["days"].upper().replace(" ", "").split(","):
            if "-" in chunk:
                first, _, last = chunk.partition("-")
                if first not in DAYS or last not in DAYS:
                    raise HoursError(part)
                days.extend(DAYS[DAYS.index(first) : DAYS.index(last) + 1])
            elif chunk in DAYS:
                days.append(chunk)
            else:
                raise HoursError(part)
        opens, closes = match["opens"].zfill(5), match["closes"].zfill(5)
        out.append(
            {
                "freq": "WEEKLY",
                "byday": ",".join(dict.fromkeys(days)),
                "opens_at": opens,
                "closes_at": closes,
            }
        )
    return out


def find_city(session: Session, name: str) -> m.Place | None:
    """The gazetteer's city of this name (any language or script, as in its aliases)."""
    wanted = name.strip().casefold()
    if not wanted:
        return None
    for place in session.scalars(
        select(m.Place).where(m.Place.kind == m.PlaceKind.city, m.Place.archived_at.is_(None))
    ):
        if wanted == place.name.casefold() or wanted in (place.aliases or "").casefold().split():
            return place
    return None


def _refused(exc: DomainError, records: list[moderation.GroupRecord]) -> EditRefused:
    """Errors of the group's records (`records/3/number`) under the form's field names."""
    if isinstance(exc, ValidationFailed):
        errors = []
        for error in exc.errors:
            parts = str(error.get("path", "")).split("/")
            path = error.get("path", "")
            if (
                len(parts) >= 3
                and parts[0] == "records"
                and parts[1].isdigit()
                and int(parts[1]) < len(records)
            ):
                etype, name = records[int(parts[1])].entity_type, "/".join(parts[2:])
                path = "hours" if etype == "schedule" else _FORM_FIELD.get((etype, name), name)
            errors.append({**error, "path": path})
        exc = ValidationFailed(errors)
    return EditRefused(exc, "")


def build(
    session: Session, *, typed: Mapping[str, str], categories: list[str], locale: str, timezone: str
) -> list[moderation.GroupRecord]:
    """The records of the new listing, parents first. Raises EditRefused for unreadable hours."""

    records: list[moderation.GroupRecord] = []
    org_id = typed.get("organization_id", "")
    new_org = (typed.get("organization_name") or "").strip()
    if not org_id and new_org:
        oid = uuid.uuid4()
        records.append(
            moderation.GroupRecord(
                "organization",
                {"name": new_org, "description": "", "source_locale": locale},
                entity_id=oid,
            )
        )
        org_id = str(oid)
    sid, lid = uuid.uuid4(), uuid.uuid4()
    records.append(
        moderation.GroupRecord(
            "service",
            {
                "organization_id": org_id or None,
                "source_locale": locale,
                "name": typed.get("name") or None,
                "description": typed.get("description", ""),
                "categories": categories,
                "status": "active",
                "audience": "",
            },
            entity_id=sid,
        )
    )
    try:
        hours = parse_hours(typed.get("hours", ""))
    except HoursError:
        raise EditRefused(ValidationFailed([{"path": "hours", "message": "hours"}]), "") from None
    city = typed.get("city", "").strip()
    address = typed.get("address", "").strip()
    phone = typed.get("phone", "").strip()
    if not (city or address or phone or hours):
        return records
    place = find_city(session, city) if city else None
    location: dict[str, Any] = {
        "name": typed.get("name") or None,
        "source_locale": locale,
        "timezone": (place.timezone if place is not None and place.timezone else timezone),
        "service_ids": [str(sid)],
    }
    if org_id:
        location["organization_id"] = org_id
    if place is not None:
        location["place_id"] = str(place.id)
        if place.parent_id is not None:
            location["region_id"] = str(place.parent_id)
    records.append(moderation.GroupRecord("location", location, entity_id=lid))
    if address or city:
        if not city:
            raise EditRefused(
                ValidationFailed([{"path": "city", "code": "required", "message": "is required"}]),
                "",
            )
        records.append(
            moderation.GroupRecord(
                "address",
                {
                    "location_id": str(lid),
                    "address_1": address or "-",
                    "city": city,
                    "country": (typed.get("country") or _country(session, place) or "UA"),
                },
            )
        )
    if phone:
        records.append(moderation.GroupRecord("phone", {"location_id": str(lid), "number": phone}))
    for span in hours:
        records.append(moderation.GroupRecord("schedule", {"location_id": str(lid), **span}))
    return records


def _country(session: Session, place: m.Place | None) -> str | None:
    above = places_up(session, place.id) if place is not None else []
    return next((p.code for p in above if p.kind == m.PlaceKind.country and p.code), None)


def submit(
    session: Session,
    *,
    actor: Account,
    typed: Mapping[str, str],
    categories: list[str],
    locale: str,
    timezone: str,
) -> ChangeRequest:
    """Propose the whole new listing as one group; returns the service's change request."""
    records = build(session, typed=typed, categories=categories, locale=locale, timezone=timezone)
    try:
        crs = moderation.propose_group(
            session,
            actor=actor,
            records=records,
            comment=typed.get("comment", "")[:5000] or None,
            source="web",
        )
    except DomainError as exc:
        raise _refused(exc, records) from exc
    return moderation.group_head(crs)
