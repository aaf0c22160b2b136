"""Loading what cards and the service page show, in a fixed number of queries whatever the
number of services: plain Core rows holding only the columns shown (no ORM identity map, no
relationship loaders), one IN query per kind of related record, the gazetteer and the category
tree from the per-process reference cache (`listings.reference`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, literal_column, null, or_, select, type_coerce, union_all
from sqlalchemy.orm import Session

from directory.listings import cardcache
from directory.listings import models as m
from directory.listings.reference import ReferenceData, reference_data
from directory.listings.texts import load_texts
from directory.listings.visibility import visible

_SERVICE_COLS = (
    m.Service.id,
    m.Service.organization_id,
    m.Service.name,
    m.Service.alternate_name,
    m.Service.description,
    m.Service.source_locale,
    m.Service.status,
    m.Service.status_reason,
    m.Service.status_reason_code,
    m.Service.status_since,
    m.Service.status_until,
    m.Service.alternative_service_id,
    m.Service.open_during_alert,
    m.Service.free_of_charge,
    m.Service.audience,
    m.Service.assured_date,
    m.Service.is_demo,
    m.Service.archived_at,
)


_DETAIL_COLS = (
    m.Service.url,
    m.Service.email,
    m.Service.interpretation_services,
    m.Service.application_process,
    m.Service.fees_description,
    m.Service.eligibility_description,
    m.Service.minimum_age,
    m.Service.maximum_age,
    m.Service.alert,
    m.Service.updated_at,
    m.Service.version,
)


_ORG_COLS = (
    m.Organization.name.label("org_name"),
    m.Organization.source_locale.label("org_source_locale"),
)


_ORG_DETAIL_COLS = (
    m.Organization.alternate_name.label("org_alternate_name"),
    m.Organization.description.label("org_description"),
    m.Organization.website.label("org_website"),
    m.Organization.email.label("org_email"),
    m.Organization.is_demo.label("org_is_demo"),
)


_LOCATION_COLS = (
    m.Location.id,
    m.Location.created_at,
    m.Location.privacy,
    m.Location.latitude,
    m.Location.longitude,
    m.Location.name,
    m.Location.source_locale,
    m.Location.description,
    m.Location.transportation,
    m.Location.place_id,
    m.Location.region_id,
    m.Location.timezone,
    m.Location.shelter_type,
    m.Location.capacity_maximum,
    m.Location.capacity_available,
    m.Location.capacity_updated,
    m.Location.has_heating,
    m.Location.has_power,
    m.Location.has_water,
    m.Location.has_internet,
    m.Location.has_toilets,
    m.Location.wheelchair_accessible,
    m.Location.pets_allowed,
    m.Location.women_children_only,
    m.Location.open_24_7,
)


_PHONE_COLS = (
    m.Phone.id,
    m.Phone.service_id,
    m.Phone.location_id,
    m.Phone.number,
    m.Phone.extension,
    m.Phone.type,
    m.Phone.description,
    m.Phone.is_hotline,
)


_SCHEDULE_COLS = (
    m.Schedule.service_id,
    m.Schedule.location_id,
    m.Schedule.service_at_location_id,
    m.Schedule.freq,
    m.Schedule.byday,
    m.Schedule.opens_at,
    m.Schedule.closes_at,
    m.Schedule.valid_from,
    m.Schedule.valid_to,
    m.Schedule.dtstart,
    m.Schedule.until,
)


_Rows = dict[uuid.UUID, list[Any]]


@dataclass(frozen=True, slots=True)
class _Address:
    id: uuid.UUID
    address_type: str
    address_1: str
    address_2: str | None
    postal_code: str
    city: str
    region: str | None
    state_province: str
    country: str


@dataclass
class LoadedRows:
    ref: ReferenceData
    services: dict[uuid.UUID, Any]  # service rows (with org_* columns)
    locations: dict[uuid.UUID, list[tuple[uuid.UUID, Any]]]  # service → [(sal id, location)]
    addresses: _Rows  # by location
    service_phones: _Rows
    location_phones: _Rows
    service_schedules: _Rows
    location_schedules: _Rows
    sal_schedules: _Rows
    service_exceptions: _Rows
    location_exceptions: _Rows
    languages: _Rows  # by service
    attributes: dict[uuid.UUID, list[uuid.UUID]]  # service → term ids (position, code order)
    alternatives: dict[uuid.UUID, Any]
    documents: _Rows  # by service (detail only)
    accessibility: _Rows  # by location (detail only)
    tr: dict[tuple[str, uuid.UUID, str], str]
    #: the best translation of the fallback chain, where the reader's locale has none
    fb: dict[tuple[str, uuid.UUID, str], tuple[str, str]]


def _group(rows: Any, key: str) -> _Rows:
    out: _Rows = {}
    for row in rows:
        k = getattr(row, key)
        if k is not None:
            out.setdefault(k, []).append(row)
    return out


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


# Built once: executing a prepared statement skips building and caching it per request.
_SERVICES = (
    select(*_SERVICE_COLS, *_ORG_COLS)
    .join(m.Organization, m.Organization.id == m.Service.organization_id)
    .where(m.Service.id.in_(_ids("ids")))
)


_SERVICES_DETAIL = (
    select(*_SERVICE_COLS, *_ORG_COLS, *_DETAIL_COLS, *_ORG_DETAIL_COLS)
    .join(m.Organization, m.Organization.id == m.Service.organization_id)
    .where(m.Service.id.in_(_ids("ids")))
)


# A location's addresses come with it (left join: a location has one or two addresses).
_LOCATIONS = (
    select(
        m.ServiceAtLocation.id.label("sal_id"),
        m.ServiceAtLocation.service_id.label("sal_service_id"),
        *_LOCATION_COLS,
        m.Address.id.label("addr_id"),
        m.Address.address_type.label("addr_type"),
        m.Address.address_1.label("addr_address_1"),
        m.Address.address_2.label("addr_address_2"),
        m.Address.postal_code.label("addr_postal_code"),
        m.Address.city.label("addr_city"),
        m.Address.region.label("addr_region"),
        m.Address.state_province.label("addr_state_province"),
        m.Address.country.label("addr_country"),
    )
    .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
    .outerjoin(
        m.Address, and_(m.Address.location_id == m.Location.id, m.Address.archived_at.is_(None))
    )
    .where(
        m.ServiceAtLocation.service_id.in_(_ids("ids")),
        m.ServiceAtLocation.archived_at.is_(None),
        m.Location.archived_at.is_(None),
    )
)


_SERVICE_PHONES = select(*_PHONE_COLS).where(
    m.Phone.service_id.in_(_ids("ids")), m.Phone.archived_at.is_(None)
)


_LOCATION_PHONES = select(*_PHONE_COLS).where(
    m.Phone.location_id.in_(_ids("loc_ids")), m.Phone.archived_at.is_(None)
)


# Weekly schedules and dated exceptions in one statement (`kind` "s" or "e"; the columns the
# other kind lacks are NULL, typed so that both databases return dates and ids alike).
_SCHEDULES_AND_EXCEPTIONS: Any = union_all(
    select(
        literal_column("'s'").label("kind"),
        *_SCHEDULE_COLS,
        type_coerce(null(), m.ScheduleException.id.type).label("id"),
        type_coerce(null(), m.ScheduleException.date.type).label("date"),
        type_coerce(null(), m.ScheduleException.closed.type).label("closed"),
        type_coerce(null(), m.ScheduleException.reason.type).label("reason"),
        type_coerce(null(), m.ScheduleException.source_locale.type).label("source_locale"),
    ).where(
        or_(
            m.Schedule.service_id.in_(_ids("ids")),
            m.Schedule.location_id.in_(_ids("loc_ids")),
            m.Schedule.service_at_location_id.in_(_ids("sal_ids")),
        ),
        m.Schedule.archived_at.is_(None),
    ),
    select(
        literal_column("'e'"),
        m.ScheduleException.service_id,
        m.ScheduleException.location_id,
        null(),
        null(),
        null(),
        m.ScheduleException.opens_at,
        m.ScheduleException.closes_at,
        null(),
        null(),
        null(),
        null(),
        m.ScheduleException.id,
        m.ScheduleException.date,
        m.ScheduleException.closed,
        m.ScheduleException.reason,
        m.ScheduleException.source_locale,
    ).where(
        or_(
            m.ScheduleException.service_id.in_(_ids("ids")),
            m.ScheduleException.location_id.in_(_ids("loc_ids")),
        ),
        m.ScheduleException.archived_at.is_(None),
    ),
)


# Languages spoken ("l") and category links ("c") of the services, in one statement.
_LANGUAGES_AND_CATEGORIES: Any = union_all(
    select(
        literal_column("'l'").label("kind"),
        m.Language.service_id,
        m.Language.id,
        m.Language.code,
        m.Language.name,
        m.Language.note,
        type_coerce(null(), m.Attribute.taxonomy_term_id.type).label("term_id"),
    ).where(m.Language.service_id.in_(_ids("ids")), m.Language.archived_at.is_(None)),
    select(
        literal_column("'c'"),
        m.Attribute.link_id,
        null(),
        null(),
        null(),
        null(),
        m.Attribute.taxonomy_term_id,
    ).where(
        m.Attribute.link_entity == "service",
        m.Attribute.link_id.in_(_ids("ids")),
        m.Attribute.archived_at.is_(None),
    ),
)


_ALTERNATIVES = select(m.Service.id, m.Service.name, m.Service.source_locale).where(
    m.Service.id.in_(_ids("ids")), visible()
)


_DOCUMENTS = select(
    m.RequiredDocument.id,
    m.RequiredDocument.service_id,
    m.RequiredDocument.document,
    m.RequiredDocument.uri,
).where(m.RequiredDocument.service_id.in_(_ids("ids")), m.RequiredDocument.archived_at.is_(None))


_ACCESSIBILITY = select(
    m.Accessibility.id, m.Accessibility.location_id, m.Accessibility.description
).where(m.Accessibility.location_id.in_(_ids("loc_ids")), m.Accessibility.archived_at.is_(None))


def load_rows(
    session: Session, ids: Sequence[uuid.UUID], *, locale: str, detail: bool
) -> LoadedRows:
    """The rows cards (`detail=False`) or the service page (`detail=True`) are built from.
    Cards' rows come from the per-process card cache (`listings.cardcache`) where it has them,
    keyed on the data version like the reference data, so only services not seen since the
    last write are read."""
    ref = reference_data(session, locale)
    if detail or not ids:
        return _load(session, ref, ids, locale=locale, detail=detail)
    scope, found = cardcache.get_many(session, locale, ids)
    missing = [sid for sid in dict.fromkeys(ids) if sid not in found]
    if missing:
        loaded = _split(_load(session, ref, missing, locale=locale, detail=False))
        cardcache.put_many(scope, locale, loaded.items())
        found.update(loaded)
    return _merge(ref, [found[sid] for sid in dict.fromkeys(ids) if sid in found])


def _split(ld: LoadedRows) -> dict[uuid.UUID, LoadedRows]:
    """`ld` cut into one LoadedRows per service: its own rows, those of its locations, and the
    texts of all of them (what `cards.build_cards` reads for that service)."""
    texts: dict[uuid.UUID, list[tuple[str, uuid.UUID, str]]] = {}
    for key in (*ld.tr, *ld.fb):
        texts.setdefault(key[1], []).append(key)
    out: dict[uuid.UUID, LoadedRows] = {}
    for sid, s in ld.services.items():
        pairs = ld.locations.get(sid, [])
        loc_ids = [loc.id for _sal, loc in pairs]
        sal_ids = [sal for sal, _loc in pairs]
        alt = s.alternative_service_id
        service_phones = ld.service_phones.get(sid, [])
        location_phones = {i: ld.location_phones[i] for i in loc_ids if i in ld.location_phones}
        languages = ld.languages.get(sid, [])
        service_exceptions = ld.service_exceptions.get(sid, [])
        location_exceptions = {
            i: ld.location_exceptions[i] for i in loc_ids if i in ld.location_exceptions
        }
        owners: list[Any] = [sid, s.organization_id, *loc_ids, alt]
        owners += [p.id for p in service_phones]
        owners += [p.id for v in location_phones.values() for p in v]
        owners += [lang.id for lang in languages]
        owners += [e.id for e in service_exceptions]
        owners += [e.id for v in location_exceptions.values() for e in v]
        keys = {k for o in owners if o is not None for k in texts.get(o, ())}
        out[sid] = LoadedRows(
            ref=ld.ref,
            services={sid: s},
            locations={sid: pairs},
            addresses={i: ld.addresses[i] for i in loc_ids if i in ld.addresses},
            service_phones={sid: service_phones} if service_phones else {},
            location_phones=location_phones,
            service_schedules=_only(ld.service_schedules, [sid]),
            location_schedules=_only(ld.location_schedules, loc_ids),
            sal_schedules=_only(ld.sal_schedules, sal_ids),
            service_exceptions={sid: service_exceptions} if service_exceptions else {},
            location_exceptions=location_exceptions,
            languages={sid: languages} if languages else {},
            attributes=_only(ld.attributes, [sid]),
            alternatives={alt: ld.alternatives[alt]} if alt in ld.alternatives else {},
            documents={},
            accessibility={},
            tr={k: ld.tr[k] for k in keys if k in ld.tr},
            fb={k: ld.fb[k] for k in keys if k in ld.fb},
        )
    return out


def _only(rows: dict[uuid.UUID, Any], keys: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    return {k: rows[k] for k in keys if k in rows}


_MERGED = (
    "services",
    "locations",
    "addresses",
    "service_phones",
    "location_phones",
    "service_schedules",
    "location_schedules",
    "sal_schedules",
    "service_exceptions",
    "location_exceptions",
    "languages",
    "attributes",
    "alternatives",
    "tr",
    "fb",
)


def _merge(ref: ReferenceData, parts: Sequence[LoadedRows]) -> LoadedRows:
    """One LoadedRows holding every part's rows (parts of one data version: a location, a text
    shared by two services holds the same rows in both)."""
    merged = LoadedRows(ref, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
    for name in _MERGED:
        target = getattr(merged, name)
        for part in parts:
            target.update(getattr(part, name))
    return merged


def _load(
    session: Session,
    ref: ReferenceData,
    ids: Sequence[uuid.UUID],
    *,
    locale: str,
    detail: bool,
) -> LoadedRows:
    if not ids:
        return LoadedRows(ref, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
    # `reference_data` read the data version through the session, which flushed any pending
    # change (refcache.version), so the statements run on the session's connection, in the
    # same transaction, without the ORM's per-statement work.
    conn = session.connection()
    services = {
        row.id: row
        for row in conn.execute(_SERVICES_DETAIL if detail else _SERVICES, {"ids": list(ids)})
    }
    sids = list(services)
    locations: dict[uuid.UUID, list[tuple[uuid.UUID, Any]]] = {sid: [] for sid in sids}
    addresses: _Rows = {}
    seen_sal: set[uuid.UUID] = set()
    seen_addr: set[uuid.UUID] = set()
    for row in conn.execute(_LOCATIONS, {"ids": sids}):
        if row.sal_id not in seen_sal:
            seen_sal.add(row.sal_id)
            locations[row.sal_service_id].append((row.sal_id, row))
        if row.addr_id is not None and row.addr_id not in seen_addr:
            seen_addr.add(row.addr_id)
            addresses.setdefault(row.id, []).append(
                _Address(
                    row.addr_id,
                    row.addr_type,
                    row.addr_address_1,
                    row.addr_address_2,
                    row.addr_postal_code,
                    row.addr_city,
                    row.addr_region,
                    row.addr_state_province,
                    row.addr_country,
                )
            )
    for live in locations.values():
        live.sort(key=lambda p: (p[1].created_at, str(p[1].id)))
    loc_ids = list({loc.id for live in locations.values() for _sal, loc in live})
    sal_ids = [sal for live in locations.values() for sal, _loc in live]
    by_loc = {"loc_ids": loc_ids}
    service_phones = _group(conn.execute(_SERVICE_PHONES, {"ids": sids}), "service_id")
    location_phones = _group(
        conn.execute(_LOCATION_PHONES, by_loc) if loc_ids else [], "location_id"
    )
    schedules: list[Any] = []
    exceptions: list[Any] = []
    owners = {"ids": sids, "loc_ids": loc_ids, "sal_ids": sal_ids}
    for row in conn.execute(_SCHEDULES_AND_EXCEPTIONS, owners):
        (schedules if row.kind == "s" else exceptions).append(row)
    languages: _Rows = {}
    attributes: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in conn.execute(_LANGUAGES_AND_CATEGORIES, {"ids": sids}):
        if row.kind == "l":
            languages.setdefault(row.service_id, []).append(row)
            continue
        term = ref.terms.get(row.term_id)
        if term is not None and not term.archived:
            attributes.setdefault(row.service_id, []).append(row.term_id)
    for term_ids in attributes.values():
        term_ids.sort(key=lambda t: (ref.terms[t].position, ref.terms[t].code))
    alt_ids = list(
        {s.alternative_service_id for s in services.values() if s.alternative_service_id}
    )
    alternatives = {
        a.id: a for a in (conn.execute(_ALTERNATIVES, {"ids": alt_ids}) if alt_ids else [])
    }
    documents: _Rows = {}
    accessibility: _Rows = {}
    if detail:
        documents = _group(conn.execute(_DOCUMENTS, {"ids": sids}), "service_id")
        accessibility = _group(
            conn.execute(_ACCESSIBILITY, by_loc) if loc_ids else [], "location_id"
        )
    pairs: list[tuple[str, uuid.UUID]] = []
    for s in services.values():
        pairs += [("service", s.id), ("organization", s.organization_id)]
    pairs += [("location", i) for i in loc_ids]
    pairs += [
        ("phone", p.id) for v in (*service_phones.values(), *location_phones.values()) for p in v
    ]
    pairs += [("language", lang.id) for v in languages.values() for lang in v]
    pairs += [("schedule_exception", e.id) for e in exceptions]
    pairs += [("required_document", d.id) for v in documents.values() for d in v]
    pairs += [("accessibility", a.id) for v in accessibility.values() for a in v]
    pairs += [("service", a) for a in alternatives]
    tr, fb = load_texts(session, pairs=pairs, locale=locale)
    return LoadedRows(
        ref=ref,
        services=services,
        locations=locations,
        addresses=addresses,
        service_phones=service_phones,
        location_phones=location_phones,
        service_schedules=_group(schedules, "service_id"),
        location_schedules=_group(schedules, "location_id"),
        sal_schedules=_group(schedules, "service_at_location_id"),
        service_exceptions=_group(exceptions, "service_id"),
        location_exceptions=_group(exceptions, "location_id"),
        languages=languages,
        attributes=attributes,
        alternatives=alternatives,
        documents=documents,
        accessibility=accessibility,
        tr=tr,
        fb=fb,
    )
