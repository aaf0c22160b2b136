"""Search result cards and the service page, built from loaded rows (`listings.loading`) and
redacted by each location's privacy level (`listings.privacy`): a confidential location has no
address, no coordinates and no precise distance; an approximate one has coordinates rounded to
~1 km and no street address."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from directory.i18n import phone_e164, use_locale
from directory.listings import models as m
from directory.listings.hours import (
    TEMPORARY_STATUSES,
    effective_status,
    open_state,
    weekly_hours,
    with_status,
    zone,
)
from directory.listings.loading import LoadedRows, load_rows
from directory.listings.privacy import public_location_view
from directory.listings.reasons import label as reason_label
from directory.listings.reference import as_float
from directory.listings.texts import LocalText, resolve
from directory.listings.views import (
    AddressView,
    Amenities,
    Capacity,
    CategoryRef,
    DocumentView,
    ExceptionView,
    LanguageView,
    LocationView,
    OrganizationView,
    PhoneView,
    ServiceCard,
    ServiceDetail,
    ServiceRef,
    StatusView,
)
from directory.search.near import haversine_km
from directory.search.params import SearchParams


def _tel(number: str, extension: str | None) -> str:
    """An RFC 3966 link with the number in E.164 (what a phone dials from anywhere)."""
    ext = "".join(ch for ch in extension if ch.isdigit()) if extension else ""
    return f"tel:{phone_e164(number)}" + (f";ext={ext}" if ext else "")


def _is_stale(assured: dt.datetime | None, now: dt.datetime, stale_after_days: int) -> bool:
    return assured is None or assured < now - dt.timedelta(days=stale_after_days)


def _tx(
    ld: LoadedRows,
    entity_type: str,
    rid: uuid.UUID,
    name: str,
    value: str | None,
    source: str | None,
    locale: str,
) -> LocalText | None:
    key = (entity_type, rid, name)
    return resolve(
        value,
        source_locale=source,
        locale=locale,
        translated=ld.tr.get(key),
        fallback=ld.fb.get(key),
    )


def _text(
    ld: LoadedRows, entity_type: str, record: Any, name: str, locale: str
) -> LocalText | None:
    return _tx(
        ld,
        entity_type,
        record.id,
        name,
        getattr(record, name),
        getattr(record, "source_locale", None),
        locale,
    )


def _phone(ld: LoadedRows, p: Any, locale: str) -> PhoneView:
    return PhoneView(
        p.number,
        p.extension,
        p.type,
        _text(ld, "phone", p, "description", locale),
        p.is_hotline,
        _tel(p.number, p.extension),
    )


def _status(ld: LoadedRows, s: Any, now: dt.datetime, locale: str) -> StatusView:
    status = effective_status(s, now)
    temporary = status in TEMPORARY_STATUSES
    alt = ld.alternatives.get(s.alternative_service_id) if s.alternative_service_id else None
    alt_ref = None
    if alt is not None and temporary:
        name = _text(ld, "service", alt, "name", locale)
        assert name is not None
        alt_ref = ServiceRef(alt.id, name)
    code = str(s.status_reason_code) if temporary and s.status_reason_code else None
    reason = _text(ld, "service", s, "status_reason", locale) if temporary else None
    if reason is None and code is not None:
        with use_locale(locale):
            label = reason_label(code)
        reason = LocalText(label, locale, False) if label else None
    return StatusView(
        str(status),
        temporary,
        reason,
        s.status_since if temporary else None,
        s.status_until if temporary else None,
        alt_ref,
        code,
    )


def _categories(ld: LoadedRows, sid: uuid.UUID, locale: str) -> tuple[CategoryRef, ...]:
    refs = ld.ref.category_refs
    return tuple(refs[t] for t in ld.attributes.get(sid, ()))


def _location_view(
    ld: LoadedRows,
    s: Any,
    sal_id: uuid.UUID,
    loc: Any,
    locale: str,
    now: dt.datetime,
) -> LocationView:
    pub = public_location_view(loc)
    address = None
    if pub.show_address:
        a = sorted(
            ld.addresses.get(loc.id, ()), key=lambda a: (a.address_type != "physical", str(a.id))
        )
        if a:
            first = a[0]
            street = pub.show_street_address
            address = AddressView(
                first.address_1 if street else None,
                first.address_2 if street else None,
                first.postal_code if street else None,
                first.city,
                first.region,
                first.state_province,
                first.country,
            )
    phones = ld.location_phones.get(loc.id, [])
    if pub.only_hotline_phones:
        phones = [p for p in phones if p.is_hotline]
    lat, lon = as_float(pub.latitude), as_float(pub.longitude)
    schedules = [
        *ld.service_schedules.get(s.id, ()),
        *ld.location_schedules.get(loc.id, ()),
        *ld.sal_schedules.get(sal_id, ()),
    ]
    exceptions = [*ld.location_exceptions.get(loc.id, ()), *ld.service_exceptions.get(s.id, ())]
    state = open_state(
        schedules=schedules,
        exceptions=exceptions,
        timezone=loc.timezone,
        open_24_7=loc.open_24_7,
        now=now,
    )
    # A temporarily closed service is not open now, whatever its hours say (as the filter).
    state = with_status(state, effective_status(s, now), s.status_until)
    place_refs = ld.ref.place_refs
    return LocationView(
        id=loc.id,
        privacy=str(loc.privacy),
        name=_text(ld, "location", loc, "name", locale) if pub.show_address else None,
        address=address,
        latitude=lat,
        longitude=lon,
        approximate=pub.approximate,
        city=place_refs.get(loc.place_id) if loc.place_id else None,
        region=place_refs.get(loc.region_id) if loc.region_id else None,
        timezone=loc.timezone,
        shelter_type=str(loc.shelter_type) if loc.shelter_type else None,
        capacity=Capacity(loc.capacity_maximum, loc.capacity_available, loc.capacity_updated),
        amenities=Amenities(
            loc.has_heating,
            loc.has_power,
            loc.has_water,
            loc.has_internet,
            loc.has_toilets,
            loc.wheelchair_accessible,
            loc.pets_allowed,
            loc.women_children_only,
            loc.open_24_7,
        ),
        open_during_alert=s.open_during_alert,
        transportation=_text(ld, "location", loc, "transportation", locale)
        if pub.show_directions
        else None,
        description=_text(ld, "location", loc, "description", locale)
        if pub.show_directions
        else None,
        accessibility=tuple(
            t
            for t in (
                _text(ld, "accessibility", a, "description", locale)
                for a in ld.accessibility.get(loc.id, ())
            )
            if t is not None
        )
        if pub.show_address
        else (),
        phones=tuple(_phone(ld, p, locale) for p in phones),
        open=state,
        geo_uri=f"geo:{lat},{lon}" if lat is not None and lon is not None else None,
        osm_url=(
            f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
            if lat is not None and lon is not None
            else None
        ),
        directions_url=(
            f"https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&route=%3B{lat}%2C{lon}"
            if lat is not None and lon is not None and not pub.approximate
            else None
        ),
    )


_CentreMap = dict[uuid.UUID, tuple[float, float]]


def _pick_location(
    views: list[LocationView],
    near: tuple[float, float] | None,
    wanted: set[uuid.UUID] | None,
    centres: _CentreMap,
) -> tuple[LocationView | None, float | None, bool]:
    """The location to show on a card (a matching one, the nearest with `near`), the distance
    to it and whether that distance is only to its city/region centre (confidential place)."""
    if not views:
        return None, None, False
    pool = [v for v in views if wanted is None or v.id in wanted] or views
    if near is None:
        return pool[0], None, False
    best: tuple[float, LocationView, bool] | None = None
    for v in pool:
        point, approx = _public_point(v, centres)
        if point is None:
            continue
        d = haversine_km(near, point)
        if best is None or d < best[0]:
            best = (d, v, approx)
    if best is None:
        return pool[0], None, False
    d, v, approx = best
    return v, (round(d) if approx or v.approximate else round(d, 1)), approx


def _public_point(v: LocationView, centres: _CentreMap) -> tuple[tuple[float, float] | None, bool]:
    """Where a distance is measured from: public coordinates, else (confidential) the centre of
    its city or region, so no distance reveals where a confidential place is."""
    if v.latitude is not None and v.longitude is not None:
        return (v.latitude, v.longitude), False
    if v.privacy == "confidential":
        return centres.get(v.id), True
    return None, False


def build_cards(
    session: Session,
    ids: Sequence[uuid.UUID],
    *,
    params: SearchParams,
    now: dt.datetime,
    stale_after_days: int,
    loc: Sequence[ColumnElement[bool]],
) -> list[ServiceCard]:
    locale = params.locale
    ld = load_rows(session, ids, locale=locale, detail=False)
    centres = _centres(ld)
    wanted = _matching_locations(session, ids, loc)
    cards = []
    for sid in ids:
        s = ld.services.get(sid)
        if s is None:
            continue
        views = [_location_view(ld, s, sal, loc, locale, now) for sal, loc in ld.locations[sid]]
        loc_view, distance, approx = _pick_location(views, params.near, wanted.get(sid), centres)
        name = _text(ld, "service", s, "name", locale)
        assert name is not None
        summary = _text(ld, "service", s, "description", locale)
        org_name = _tx(
            ld, "organization", s.organization_id, "name", s.org_name, s.org_source_locale, locale
        )
        assert org_name is not None
        phones = tuple(_phone(ld, p, locale) for p in ld.service_phones.get(sid, ()))
        if loc_view is not None:
            phones += loc_view.phones
        cards.append(
            ServiceCard(
                id=s.id,
                name=name,
                alternate_name=_text(ld, "service", s, "alternate_name", locale),
                summary=summary,
                organization_id=s.organization_id,
                organization_name=org_name,
                status=_status(ld, s, now, locale),
                categories=_categories(ld, sid, locale),
                location=loc_view,
                location_count=len(views),
                distance_km=distance,
                distance_approximate=approx,
                open=loc_view.open if loc_view else None,
                phones=phones,
                languages=tuple(sorted({lang.code for lang in ld.languages.get(sid, ())})),
                free_of_charge=s.free_of_charge,
                audience=tuple(s.audience.split()) if s.audience else (),
                last_verified=s.assured_date,
                stale=_is_stale(s.assured_date, now, stale_after_days),
                is_demo=s.is_demo,
                fallback=name.fallback or bool(summary and summary.fallback),
            )
        )
    return cards


def _centres(ld: LoadedRows) -> _CentreMap:
    """City (else region) centre of each confidential location, to measure distance from."""
    out: _CentreMap = {}
    places = ld.ref.places
    for pairs in ld.locations.values():
        for _sal, loc in pairs:
            for pid in (loc.place_id, loc.region_id):
                p = places.get(pid) if pid else None
                if p is not None and p.latitude is not None and p.longitude is not None:
                    out.setdefault(loc.id, (p.latitude, p.longitude))
    return out


def _matching_locations(
    session: Session, ids: Sequence[uuid.UUID], conds: Sequence[ColumnElement[bool]]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each service of the page, its locations that meet the location filters (one query)."""
    if not ids or not conds:
        return {}
    rows = session.execute(
        select(m.ServiceAtLocation.service_id, m.Location.id)
        .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
        .join(m.Service, m.Service.id == m.ServiceAtLocation.service_id)
        .where(m.ServiceAtLocation.service_id.in_(list(ids)), *conds)
    ).all()
    out: dict[uuid.UUID, set[uuid.UUID]] = {}
    for sid, lid in rows:
        out.setdefault(sid, set()).add(lid)
    return out


def get_service_detail(
    session: Session,
    service_id: uuid.UUID,
    *,
    locale: str,
    now: dt.datetime,
    stale_after_days: int,
) -> ServiceDetail | None:
    """Everything a reader may see about one service; None if it does not exist or is archived."""
    ld = load_rows(session, [service_id], locale=locale, detail=True)
    s = ld.services.get(service_id)
    if s is None or s.archived_at is not None:
        return None
    views = [_location_view(ld, s, sal, loc, locale, now) for sal, loc in ld.locations[s.id]]
    first_sal, first = ld.locations[s.id][0] if ld.locations[s.id] else (None, None)
    schedules = [
        *ld.service_schedules.get(s.id, ()),
        *(ld.location_schedules.get(first.id, ()) if first is not None else ()),
        *(ld.sal_schedules.get(first_sal, ()) if first_sal is not None else ()),
    ]
    local_today = now.astimezone(zone(first.timezone if first is not None else None)).date()
    exceptions = sorted(
        (
            e
            for e in (
                *(ld.location_exceptions.get(first.id, ()) if first is not None else ()),
                *ld.service_exceptions.get(s.id, ()),
            )
            if e.date >= local_today
        ),
        key=lambda e: e.date,
    )
    name = _text(ld, "service", s, "name", locale)
    assert name is not None
    org_id = s.organization_id
    org_source = s.org_source_locale

    def org_text(fieldname: str, value: str | None) -> LocalText | None:
        return _tx(ld, "organization", org_id, fieldname, value, org_source, locale)

    org_name = org_text("name", s.org_name)
    assert org_name is not None
    description = _text(ld, "service", s, "description", locale)
    phones = tuple(_phone(ld, p, locale) for p in ld.service_phones.get(s.id, ()))
    for v in views:
        phones += tuple(p for p in v.phones if p not in phones)
    return ServiceDetail(
        id=s.id,
        name=name,
        alternate_name=_text(ld, "service", s, "alternate_name", locale),
        description=description,
        organization=OrganizationView(
            org_id,
            org_name,
            org_text("alternate_name", s.org_alternate_name),
            org_text("description", s.org_description),
            s.org_website,
            s.org_email,
            s.org_is_demo,
        ),
        status=_status(ld, s, now, locale),
        alert=_text(ld, "service", s, "alert", locale),
        categories=_categories(ld, s.id, locale),
        locations=tuple(views),
        hours=tuple(weekly_hours(schedules, on=local_today)),
        exceptions=tuple(
            ExceptionView(
                e.date,
                e.opens_at is None or e.closes_at is None,
                e.opens_at,
                e.closes_at,
                _text(ld, "schedule_exception", e, "reason", locale),
            )
            for e in exceptions[:14]
        ),
        open=views[0].open if views else None,
        phones=phones,
        languages=tuple(
            LanguageView(lang.code, lang.name, _text(ld, "language", lang, "note", locale))
            for lang in sorted(ld.languages.get(s.id, ()), key=lambda x: x.code)
        ),
        eligibility=_text(ld, "service", s, "eligibility_description", locale),
        required_documents=tuple(
            DocumentView(t, d.uri)
            for d in ld.documents.get(s.id, ())
            for t in [_text(ld, "required_document", d, "document", locale)]
            if t is not None
        ),
        fees=_text(ld, "service", s, "fees_description", locale),
        free_of_charge=s.free_of_charge,
        application_process=_text(ld, "service", s, "application_process", locale),
        interpretation_services=_text(ld, "service", s, "interpretation_services", locale),
        audience=tuple(s.audience.split()) if s.audience else (),
        minimum_age=s.minimum_age,
        maximum_age=s.maximum_age,
        url=s.url,
        email=s.email,
        open_during_alert=s.open_during_alert,
        last_verified=s.assured_date,
        stale=_is_stale(s.assured_date, now, stale_after_days),
        updated_at=s.updated_at,
        is_demo=s.is_demo,
        fallback=name.fallback or bool(description and description.fallback),
        version=s.version,
    )
