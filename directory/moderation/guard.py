"""The fraud guard: which changes need a second person (a moderator other than their author).

A fraudster with a moderator account — or a stolen one — redirects people in need by changing
how a listing is reached. So a change that moves contact or whereabouts is held for another
moderator, whatever route it takes (manage app, API, importer, revert):

- changing, adding or deleting a contact or whereabouts field (`fields.SENSITIVE`: phone numbers,
  addresses, coordinates, privacy, URLs, e-mail addresses) of a published record;
- adding, archiving (deleting) or restoring a contact record — a phone or an address — of a
  published listing (URLs and e-mail addresses are fields: deleting one is a change of it);
- a new record (or a new listing) that carries a URL, e-mail address or phone number field;
- any free-text field or translation in which a phone number, e-mail address or URL appears that
  none of the record's current texts of that field had (phone numbers found with libphonenumber's
  `PhoneNumberMatcher` for the listing's countries and international `+` numbers; URLs and
  e-mail addresses with `linkify-it-py`, which knows the real top-level domains).

`needs_second_person` is the one rule; `moderation.service` asks it for every proposal and
revert, and the importer's publish paths ask it before publishing a record themselves.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers
from linkify_it import LinkifyIt
from linkify_it.tlds import TLDS
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.moderation.fields import FIELDS, MODELS, SENSITIVE, SENSITIVE_CREATE, dump
from directory.moderation.models import ChangeKind

#: Fields that hold a way to reach someone: setting one on a new record needs a second person.
CONTACT_FIELDS = frozenset({"url", "email", "website", "uri", "number"})
#: Free-text fields (not contact fields themselves) searched for phone numbers, URLs, e-mails.
TEXT_FIELDS: dict[str, frozenset[str]] = {
    etype: frozenset(
        name for name, spec in specs.items() if spec.kind in ("str", "text") and not spec.check
    )
    for etype, specs in FIELDS.items()
}
#: A text with fewer digits than this holds no phone number (skips the matcher for most texts).
_MIN_DIGITS = 6


@functools.cache
def _linkify() -> LinkifyIt:
    return LinkifyIt().tlds(TLDS)


def contacts_in(text: str | None, countries: Iterable[str] = ()) -> set[str]:
    """The phone numbers (E.164), URLs and e-mail addresses written in `text`, normalised so that
    the same contact written twice compares equal. National numbers are read for `countries`
    (ISO 3166-1 alpha-2); international ones (`+380 …`) always."""
    if not text:
        return set()
    found: set[str] = set()
    if sum(ch.isdigit() for ch in text) >= _MIN_DIGITS:
        for region in (None, *sorted({c.upper() for c in countries if c})):
            for match in phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.VALID
            ):
                found.add(
                    "tel:"
                    + phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                )
    if "." in text:
        for link in _linkify().match(text) or ():
            url = link.url.lower()
            if url.startswith("mailto:"):
                found.add(url)
            else:
                found.add("url:" + url.split("://", 1)[-1].rstrip("/"))
    return found


def needs_second_person(
    session: Session,
    *,
    entity_type: str,
    kind: ChangeKind,
    record: Any,
    cleaned: Mapping[str, Any],
    texts: Mapping[str, Mapping[str, str]] | None = None,
    archiving: bool | None = None,
) -> bool:
    """Does this change need a moderator other than its author? (The rule: module docstring.)

    `record` is the published record (None for a create), `cleaned` the validated fields,
    `texts` the translations ({field: {locale: text}}); `archiving` for a revert that archives
    (True) or restores (False) the record."""
    texts = texts or {}
    if kind == ChangeKind.create:
        if entity_type in SENSITIVE_CREATE and _parent_published(session, cleaned):
            return True
        if any(cleaned.get(name) for name in CONTACT_FIELDS & set(cleaned)):
            return True
        return _new_contacts(session, entity_type, None, cleaned, texts)
    if record is None:
        return False
    archives = kind in (ChangeKind.archive, ChangeKind.restore) or archiving is not None
    if archives and entity_type in SENSITIVE_CREATE:
        return True
    touched = {
        name for name, value in cleaned.items() if value != dump(getattr(record, name, None))
    }
    if touched & SENSITIVE[entity_type]:
        return True
    return _new_contacts(session, entity_type, record, cleaned, texts)


def _new_contacts(
    session: Session,
    entity_type: str,
    record: Any,
    cleaned: Mapping[str, Any],
    texts: Mapping[str, Mapping[str, str]],
) -> bool:
    """Does a text field or translation bring a contact that the field's texts did not have?"""
    free = TEXT_FIELDS.get(entity_type, frozenset())
    proposed: dict[str, list[str]] = {}
    for name, value in cleaned.items():
        if name in free and isinstance(value, str) and value:
            proposed.setdefault(name, []).append(value)
    for name, per_locale in texts.items():
        if name in free:
            proposed.setdefault(name, []).extend(v for v in per_locale.values() if v)
    if not proposed:
        return False
    countries: list[str] | None = None
    for name, values in proposed.items():
        if not any(sum(ch.isdigit() for ch in v) >= _MIN_DIGITS or "." in v for v in values):
            continue
        if countries is None:
            countries = _countries(session, entity_type, record, cleaned)
        new: set[str] = set()
        for value in values:
            new |= contacts_in(value, countries)
        if not new:
            continue
        before: set[str] = set()
        for value in _current_texts(session, entity_type, record, name):
            before |= contacts_in(value, countries)
        if new - before:
            return True
    return False


def _current_texts(session: Session, entity_type: str, record: Any, name: str) -> list[str]:
    """The published texts of one field of `record`, in every locale."""
    if record is None:
        return []
    out = [getattr(record, name, None) or ""]
    out += session.scalars(
        select(m.Translation.value).where(
            m.Translation.entity_type == entity_type,
            m.Translation.entity_id == record.id,
            m.Translation.field == name,
        )
    )
    return [t for t in out if t]


def _ref(record: Any, cleaned: Mapping[str, Any], name: str) -> uuid.UUID | None:
    value = cleaned.get(name) if name in cleaned else getattr(record, name, None)
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return value if isinstance(value, uuid.UUID) else None


def _countries(
    session: Session, entity_type: str, record: Any, cleaned: Mapping[str, Any]
) -> list[str]:
    """The countries a listing's phone numbers are dialled in: its addresses' countries, else
    the countries of the gazetteer (national numbers are read for each)."""
    locations: set[uuid.UUID] = set()
    services: set[uuid.UUID] = set()
    if entity_type == "location" and record is not None:
        locations.add(record.id)
    if entity_type == "service" and record is not None:
        services.add(record.id)
    for name in ("location_id", "service_id"):
        ref = _ref(record, cleaned, name)
        if ref is not None:
            (locations if name == "location_id" else services).add(ref)
    if entity_type == "organization" and record is not None:
        locations |= set(
            session.scalars(
                select(m.Location.id).where(m.Location.organization_id == record.id).limit(50)
            )
        )
    if services:
        locations |= set(
            session.scalars(
                select(m.ServiceAtLocation.location_id)
                .where(m.ServiceAtLocation.service_id.in_(services))
                .limit(50)
            )
        )
    found: set[str] = set()
    if entity_type == "address":
        country = cleaned.get("country") or getattr(record, "country", None)
        if country:
            found.add(str(country))
    if locations:
        found |= set(
            session.scalars(
                select(m.Address.country).where(m.Address.location_id.in_(locations)).distinct()
            )
        )
    if not found:
        found = {
            code[:2]
            for code in session.scalars(
                select(m.Place.code).where(m.Place.kind == m.PlaceKind.country)
            )
            if code
        }
    return sorted(c.upper() for c in found if c and len(c) >= 2)[:10]


def _parent_published(session: Session, cleaned: Mapping[str, Any]) -> bool:
    for key in ("location_id", "service_id", "organization_id"):
        if cleaned.get(key):
            parent = session.get(MODELS[key.removesuffix("_id")], uuid.UUID(cleaned[key]))
            if parent is not None and parent.archived_at is None:
                return True
    return False
