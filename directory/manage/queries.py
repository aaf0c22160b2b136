"""Reads only the manage pages need (never a write: writes go through `directory.moderation`).

These views are for signed-in people. They include closed listings and, for moderators, the
whereabouts of confidential places; templates hide those from volunteers (`can_see_location`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from directory.accounts.models import Account
from directory.listings import models as m
from directory.listings.privacy import LOCATING_FIELDS
from directory.listings.queries import list_places
from directory.listings.texts import texts_for
from directory.listings.tree import places_up
from directory.moderation.models import AuditEntry, ChangeRequest, ChangeState
from directory.search.keys import search_key, search_terms
from directory.search.match import (
    Match,
    document_matches,
    index_scans,
    matching_source,
    prepare,
    typo_corrections,
)

#: Translated fields shown side by side in the edit form.
SERVICE_TEXT_FIELDS = ("name", "description", "eligibility_description")
LOCATION_TEXT_FIELDS = ("name", "transportation")


def load_account(session: Session, account_id: uuid.UUID) -> Account | None:
    """The account a session cookie names, with its region scopes."""
    return session.get(Account, account_id, options=[selectinload(Account.regions)])


@dataclass
class ListingRow:
    """One line of a listing list: enough to recognise it and act on it."""

    service_id: uuid.UUID
    name: str
    organization: str
    status: str
    status_until: dt.datetime | None
    location_id: uuid.UUID | None
    place: str
    capacity_available: int | None
    capacity_maximum: int | None
    assured_date: dt.datetime | None
    shelter_type: str | None
    pending: int = 0


def _place_names(session: Session, ids: set[uuid.UUID], locale: str = "en") -> dict[uuid.UUID, str]:
    """Place names in the person's language (else the place's own)."""
    if not ids:
        return {}
    texts = texts_for(session, entity_type="place", ids=ids, fields=["name"], locale=locale)
    return {pid: text.value for (pid, _field), text in texts.items()}


def _rows(session: Session, services: list[m.Service], locale: str = "en") -> list[ListingRow]:
    if not services:
        return []
    ids = [s.id for s in services]
    loc_by_service: dict[uuid.UUID, m.Location] = {}
    for sal, found in session.execute(
        select(m.ServiceAtLocation, m.Location)
        .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
        .where(m.ServiceAtLocation.service_id.in_(ids))
        .order_by(m.ServiceAtLocation.created_at)
    ):
        loc_by_service.setdefault(sal.service_id, found)
    orgs = dict(
        session.execute(
            select(m.Organization.id, m.Organization.name).where(
                m.Organization.id.in_({s.organization_id for s in services})
            )
        ).all()
    )
    places = _place_names(
        session,
        {p for one in loc_by_service.values() for p in (one.place_id, one.region_id) if p},
        locale,
    )
    names = {
        sid: text.value
        for (sid, _field), text in texts_for(
            session, entity_type="service", ids=ids, fields=["name"], locale=locale
        ).items()
    }
    pending: dict[uuid.UUID, int] = defaultdict(int)
    for sid in session.scalars(
        select(ChangeRequest.service_id).where(
            ChangeRequest.service_id.in_(ids), ChangeRequest.state == ChangeState.pending
        )
    ):
        if sid is not None:
            pending[sid] += 1
    rows = []
    for s in services:
        loc: m.Location | None = loc_by_service.get(s.id)
        place = ""
        if loc is not None:
            place = places.get(loc.place_id or loc.region_id or uuid.UUID(int=0), "")
        rows.append(
            ListingRow(
                service_id=s.id,
                name=names.get(s.id, s.name),
                organization=orgs.get(s.organization_id, ""),
                status=s.status.value,
                status_until=s.status_until,
                location_id=loc.id if loc else None,
                place=place,
                capacity_available=loc.capacity_available if loc else None,
                capacity_maximum=loc.capacity_maximum if loc else None,
                assured_date=s.assured_date,
                shelter_type=loc.shelter_type.value if loc and loc.shelter_type else None,
                pending=pending[s.id],
            )
        )
    return rows


def find_listings(
    session: Session, *, q: str, locale: str = "en", limit: int = 20
) -> list[ListingRow]:
    """Listings matching `q` by the public search's own rule (`directory.search.match`: every
    word begins a word of the name, organisation, place or any translation, in any script;
    typos corrected when nothing matches), closed ones included — a volunteer must be able to
    reopen a place. Staff also find what the public cannot: listings the index leaves out
    (inactive, defunct, or created a moment ago) are matched by their name, by the same rule."""
    words = search_terms(q)[:8]
    services = _find(session, words, limit)
    if words and not services:
        fixed = typo_corrections(session, words)
        if fixed != words:
            services = _find(session, fixed, limit)
    if words and not services:
        # A volunteer types the word as she says it ("гуртожиток"); the name has it inflected
        # ("в гуртожитку"). Word beginnings without the last two letters of long words find it
        # (the manage search's rule before it moved onto the public one).
        stems = [w[:-2] if len(w) > 5 else w for w in words]
        if stems != words:
            services = _find(session, stems, limit)
    return _rows(session, services, locale)


def _find(session: Session, words: list[str], limit: int) -> list[m.Service]:
    stmt = select(m.Service).where(m.Service.archived_at.is_(None))
    if words:
        match = prepare(session, words)
        outside = session.execute(
            select(m.Service.id, m.Service.name).where(
                m.Service.archived_at.is_(None),
                m.Service.id.not_in(select(m.ServiceSearch.service_id)),
            )
        ).all()
        # (by word beginnings: the index's vocabulary does not hold their words)
        by_name = Match(words=match.words, expansions=(None,) * len(match.words))
        named = [sid for sid, name in outside if document_matches(by_name, search_key(name), "all")]
        found = [m.Service.id.in_(named)] if named else []
        if not match.impossible:
            src, sid, _key, conds = matching_source(session, match)
            found.append(m.Service.id.in_(select(sid).select_from(src).where(*conds)))
        if not found:
            return []
        stmt = stmt.where(or_(*found))
    with index_scans(session):
        return list(session.scalars(stmt.order_by(m.Service.name).limit(limit)))


def recent_listings(
    session: Session, *, account: Account, locale: str = "en", limit: int = 8
) -> list[ListingRow]:
    """The listings this person proposed changes to most recently (Maria's own shelter first)."""
    seen: list[uuid.UUID] = []
    for sid in session.scalars(
        select(ChangeRequest.service_id)
        .where(ChangeRequest.author_id == account.id, ChangeRequest.service_id.is_not(None))
        .order_by(ChangeRequest.created_at.desc())
        .limit(100)
    ):
        if sid is not None and sid not in seen:
            seen.append(sid)
        if len(seen) >= limit:
            break
    if not seen:
        return []
    services = {s.id: s for s in session.scalars(select(m.Service).where(m.Service.id.in_(seen)))}
    return _rows(session, [services[i] for i in seen if i in services], locale)


@dataclass
class PhoneRow:
    id: uuid.UUID
    number: str
    description: str | None
    is_hotline: bool
    version: int


@dataclass
class HoursRow:
    id: uuid.UUID
    byday: str
    opens_at: dt.time | None
    closes_at: dt.time | None
    version: int


@dataclass
class Listing:
    """Everything the edit page shows about one listing (the published state)."""

    service: m.Service
    organization: m.Organization
    location: m.Location | None
    address: m.Address | None
    phones: list[PhoneRow]
    hours: list[HoursRow]
    categories: list[str]
    #: {(entity_type, field): {locale: value}} — the source text and every translation
    texts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    pending: list[ChangeRequest] = field(default_factory=list)


def get_listing(session: Session, service_id: uuid.UUID) -> Listing | None:
    service = session.get(m.Service, service_id)
    if service is None or service.archived_at is not None:
        return None
    organization = session.get(m.Organization, service.organization_id)
    assert organization is not None
    location = session.scalar(
        select(m.Location)
        .join(m.ServiceAtLocation, m.ServiceAtLocation.location_id == m.Location.id)
        .where(m.ServiceAtLocation.service_id == service.id)
        .order_by(m.ServiceAtLocation.created_at)
        .limit(1)
    )
    address = None
    phones: list[PhoneRow] = []
    hours: list[HoursRow] = []
    owners: list[Any] = [m.Phone.service_id == service.id]
    hour_owners: list[Any] = [m.Schedule.service_id == service.id]
    if location is not None:
        address = session.scalar(
            select(m.Address)
            .where(m.Address.location_id == location.id, m.Address.archived_at.is_(None))
            .limit(1)
        )
        owners.append(m.Phone.location_id == location.id)
        hour_owners.append(m.Schedule.location_id == location.id)
    for p in session.scalars(
        select(m.Phone)
        .where(or_(*owners), m.Phone.archived_at.is_(None))
        .order_by(m.Phone.created_at)
    ):
        phones.append(PhoneRow(p.id, p.number, p.description, p.is_hotline, p.version))
    for h in session.scalars(
        select(m.Schedule)
        .where(or_(*hour_owners), m.Schedule.archived_at.is_(None))
        .order_by(m.Schedule.created_at)
    ):
        hours.append(HoursRow(h.id, h.byday or "", h.opens_at, h.closes_at, h.version))
    categories = list(
        session.scalars(
            select(m.TaxonomyTerm.code)
            .join(m.Attribute, m.Attribute.taxonomy_term_id == m.TaxonomyTerm.id)
            .where(m.Attribute.link_id == service.id, m.Attribute.link_entity == "service")
        )
    )
    texts: dict[tuple[str, str], dict[str, str]] = {}
    for name in SERVICE_TEXT_FIELDS:
        value = getattr(service, name)
        texts[("service", name)] = {service.source_locale: value} if value else {}
    if location is not None:
        for name in LOCATION_TEXT_FIELDS:
            value = getattr(location, name)
            texts[("location", name)] = {location.source_locale: value} if value else {}
    entity_ids = [service.id] + ([location.id] if location else [])
    for t in session.scalars(select(m.Translation).where(m.Translation.entity_id.in_(entity_ids))):
        key = (t.entity_type, t.field)
        if key in texts:
            texts[key].setdefault(t.locale, t.value)
    pending = list(
        session.scalars(
            select(ChangeRequest)
            .where(
                ChangeRequest.service_id == service.id, ChangeRequest.state == ChangeState.pending
            )
            .order_by(ChangeRequest.created_at)
        )
    )
    return Listing(
        service=service,
        organization=organization,
        location=location,
        address=address,
        phones=phones,
        hours=hours,
        categories=categories,
        texts=texts,
        pending=pending,
    )


def service_names(session: Session, ids: set[uuid.UUID], locale: str) -> dict[uuid.UUID, str]:
    """Listing names in the person's language (else the listing's own)."""
    if not ids:
        return {}
    texts = texts_for(session, entity_type="service", ids=ids, fields=["name"], locale=locale)
    return {sid: text.value for (sid, _field), text in texts.items()}


#: Listings that matter most when they go stale: shelters and heat/power points first.
_PRIORITY_CATEGORIES = ("shelter", "heat-power")


@dataclass
class StaleGroup:
    region: str
    rows: list[ListingRow]


def freshness_board(
    session: Session,
    *,
    stale_after_days: int,
    now: dt.datetime,
    locale: str = "en",
    limit: int = 300,
) -> list[StaleGroup]:
    """Listings not verified for `stale_after_days`, grouped by region; in each region shelters
    and heat/power points first, then the oldest verification first."""
    cutoff = now - dt.timedelta(days=stale_after_days)
    services = list(
        session.scalars(
            select(m.Service)
            .where(
                m.Service.archived_at.is_(None),
                m.Service.status.not_in([m.ServiceStatus.defunct]),
                or_(m.Service.assured_date.is_(None), m.Service.assured_date < cutoff),
            )
            .limit(limit)
        )
    )
    rows = _rows(session, services, locale)
    priority: set[uuid.UUID] = set(
        session.scalars(
            select(m.Attribute.link_id)
            .join(m.TaxonomyTerm, m.TaxonomyTerm.id == m.Attribute.taxonomy_term_id)
            .where(
                m.Attribute.link_entity == "service",
                m.Attribute.link_id.in_([s.id for s in services]),
                or_(
                    *[m.TaxonomyTerm.code == c for c in _PRIORITY_CATEGORIES],
                    *[m.TaxonomyTerm.code.like(c + ".%") for c in _PRIORITY_CATEGORIES],
                ),
            )
        )
    )
    region_of: dict[uuid.UUID, str] = {}
    loc_ids = {r.location_id for r in rows if r.location_id}
    if loc_ids:
        region_ids = dict(
            session.execute(
                select(m.Location.id, m.Location.region_id).where(m.Location.id.in_(loc_ids))
            ).all()
        )
        names = _place_names(session, {r for r in region_ids.values() if r}, locale)
        for loc_id, reg in region_ids.items():
            region_of[loc_id] = names.get(reg, "") if reg else ""
    groups: dict[str, list[ListingRow]] = defaultdict(list)
    for row in rows:
        groups[region_of.get(row.location_id, "") if row.location_id else ""].append(row)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    out = []
    for region in sorted(groups, key=lambda r: (r == "", r)):
        items = sorted(
            groups[region],
            key=lambda r: (r.service_id not in priority, r.assured_date or oldest, r.name),
        )
        out.append(StaleGroup(region=region, rows=items))
    return out


@dataclass
class FieldEdit:
    field: str
    before: Any
    after: Any


#: Whereabouts of a place: the shared locating fields (`listings.privacy.LOCATING_FIELDS`) and
#: what narrows them down (privacy, city); never shown when the viewer may not see them.
WHEREABOUTS = LOCATING_FIELDS["location"] | LOCATING_FIELDS["address"] | {"privacy", "place_id"}


def changes_since(
    session: Session,
    *,
    entity_type: str,
    entity_id: uuid.UUID,
    version: int | None,
    hide_whereabouts: bool = False,
) -> list[FieldEdit]:
    """What was published on a record after `version` (for the "someone else changed it" view).
    With `hide_whereabouts`, nothing about where a location or address is comes back."""
    if hide_whereabouts and entity_type in ("address", "accessibility"):
        return []

    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == entity_type,
            AuditEntry.entity_id == entity_id,
            AuditEntry.entity_version > (version or 0),
        )
        .order_by(AuditEntry.at)
    )
    out: dict[str, FieldEdit] = {}
    for entry in entries:
        for name, pair in (entry.changes or {}).items():
            if isinstance(pair, list | tuple) and len(pair) == 2:
                before = out[name].before if name in out else pair[0]
                out[name] = FieldEdit(name, before, pair[1])
    hidden = {"capacity_updated", "status_since"}
    if hide_whereabouts and entity_type == "location":
        hidden |= WHEREABOUTS
    return [e for e in out.values() if e.field.split("@")[0] not in hidden]


def reference_names(session: Session, values: list[Any], *, staff: bool = True) -> dict[str, str]:
    """Names for the ids and codes a change payload holds (organisation, place, service,
    location ids; category codes), so a diff reads "Kyiv Oblast", not a UUID. Without `staff`
    (a volunteer's own list), the names of places that are not exact stay ids."""
    ids: set[uuid.UUID] = set()
    codes: set[str] = set()
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                continue
            try:
                ids.add(uuid.UUID(item))
            except ValueError:
                if 0 < len(item) <= 100 and " " not in item:
                    codes.add(item)
    out: dict[str, str] = {}
    if ids:
        for model, column in (
            (m.Organization, m.Organization.name),
            (m.Place, m.Place.name),
            (m.Service, m.Service.name),
            (m.Location, m.Location.name),
        ):
            stmt = select(model.id, column).where(model.id.in_(ids))
            if model is m.Location and not staff:
                # a place's name can say where it is (`listings.privacy.LOCATING_FIELDS`)
                stmt = stmt.where(m.Location.privacy == m.Privacy.exact)
            for rid, name in session.execute(stmt):
                if name:
                    out[str(rid)] = name
    if codes:
        for code, name in session.execute(
            select(m.TaxonomyTerm.code, m.TaxonomyTerm.name).where(m.TaxonomyTerm.code.in_(codes))
        ):
            out[code] = name
    return out


def zone_of_change(session: Session, cr: ChangeRequest, *, default: str) -> str:
    """The time zone a change's times are read in: its listing's (first) location's, else its
    region's (a notice), else `default`."""
    if cr.service_id is not None:
        zone = session.scalar(
            select(m.Location.timezone)
            .join(m.ServiceAtLocation, m.ServiceAtLocation.location_id == m.Location.id)
            .where(m.ServiceAtLocation.service_id == cr.service_id)
            .order_by(m.Location.created_at)
            .limit(1)
        )
        if zone:
            return str(zone)
    return next((p.timezone for p in places_up(session, cr.region_id) if p.timezone), default)


def recent_notices(
    session: Session, *, limit: int = 50, region_ids: Iterable[uuid.UUID] | None = None
) -> list[m.Notice]:
    """Notices newest first, ended ones (archived) included so moderators see what was said.
    `region_ids`: only those regions' notices and nationwide ones (a moderator's regions)."""
    stmt = select(m.Notice)
    if region_ids is not None:
        stmt = stmt.where(
            or_(m.Notice.region_id.in_(list(region_ids)), m.Notice.region_id.is_(None))
        )
    return list(session.scalars(stmt.order_by(m.Notice.valid_from.desc()).limit(limit)))


@dataclass
class TermLabels:
    id: uuid.UUID
    code: str
    depth: int
    names: dict[str, str]


def taxonomy_labels(session: Session) -> list[TermLabels]:
    """Every category with its name in each locale (source column + translations)."""
    terms = list(
        session.scalars(
            select(m.TaxonomyTerm)
            .where(m.TaxonomyTerm.archived_at.is_(None))
            .order_by(m.TaxonomyTerm.code)
        )
    )
    names: dict[uuid.UUID, dict[str, str]] = {t.id: {"en": t.name} for t in terms}
    for t in session.scalars(
        select(m.Translation).where(
            m.Translation.entity_type == "taxonomy_term", m.Translation.field == "name"
        )
    ):
        if t.entity_id in names:
            names[t.entity_id][t.locale] = t.value
    return [TermLabels(t.id, t.code, t.code.count("."), names[t.id]) for t in terms]


@dataclass(frozen=True)
class OrganizationChoice:
    """An organisation in a picker, named in the person's language."""

    id: uuid.UUID
    name: str


def organizations(session: Session, *, locale: str, limit: int = 2000) -> list[OrganizationChoice]:
    ids = list(
        session.scalars(
            select(m.Organization.id)
            .where(m.Organization.archived_at.is_(None))
            .order_by(m.Organization.name)
            .limit(limit)
        )
    )
    texts = texts_for(session, entity_type="organization", ids=ids, fields=["name"], locale=locale)
    rows = [
        OrganizationChoice(oid, texts[(oid, "name")].value) for oid in ids if (oid, "name") in texts
    ]
    return sorted(rows, key=lambda o: o.name.casefold())


@dataclass(frozen=True)
class RegionChoice:
    """A region in a picker, named in the person's language."""

    id: uuid.UUID
    name: str


def regions(session: Session, locale: str) -> list[RegionChoice]:
    """The regions for the pickers (queue filter, accounts, notices), named and ordered in
    `locale` (the gazetteer's translations; a region without one keeps its own name)."""

    rows = [
        RegionChoice(p.id, p.name.value)
        for p in list_places(session, locale=locale)
        if p.kind == "region"
    ]
    return sorted(rows, key=lambda r: r.name.casefold())


def alternatives(
    session: Session, listing: Listing, *, locale: str = "en", limit: int = 30
) -> list[tuple[uuid.UUID, str]]:
    """Services a closed or full listing may point readers to ("go here instead"): open ones
    of the same organisation or in the same city, those sharing a category first; the one
    chosen now stays in the list."""
    svc, loc = listing.service, listing.location
    sal = m.ServiceAtLocation
    near: Any = m.Service.organization_id == svc.organization_id
    if loc is not None and (loc.place_id or loc.region_id):
        place_col = m.Location.place_id if loc.place_id else m.Location.region_id
        near = or_(
            near,
            m.Service.id.in_(
                select(sal.service_id)
                .join(m.Location, m.Location.id == sal.location_id)
                .where(place_col == (loc.place_id or loc.region_id), sal.archived_at.is_(None))
            ),
        )
    shared = (
        select(m.Attribute.link_id)
        .join(m.TaxonomyTerm, m.TaxonomyTerm.id == m.Attribute.taxonomy_term_id)
        .where(
            m.Attribute.link_entity == "service",
            m.TaxonomyTerm.code.in_(listing.categories or [""]),
        )
    )
    rows = session.execute(
        select(m.Service.id, m.Service.name, m.Service.id.in_(shared).label("same"))
        .where(
            near,
            m.Service.id != svc.id,
            m.Service.archived_at.is_(None),
            m.Service.status.in_((m.ServiceStatus.active, m.ServiceStatus.full)),
        )
        .order_by(m.Service.id.in_(shared).desc(), m.Service.name)
        .limit(limit)
    ).all()
    out = [(sid, name) for sid, name, _same in rows]
    current = svc.alternative_service_id
    if current is not None and current not in {sid for sid, _ in out}:
        name = session.scalar(select(m.Service.name).where(m.Service.id == current))
        if name is not None:
            out.insert(0, (current, name))
    names = dict(out)
    translated = _service_names_in(session, list(names), locale)
    return [(sid, translated.get(sid, name)) for sid, name in out]


def _service_names_in(session: Session, ids: list[uuid.UUID], locale: str) -> dict[uuid.UUID, str]:

    found = texts_for(session, entity_type="service", ids=ids, fields=["name"], locale=locale)
    return {sid: text.value for (sid, _f), text in found.items()}
