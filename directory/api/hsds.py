"""Public JSON shapes with HSDS 3 field names, built from the read path's (already redacted)
views. Crisis extensions keep the model's names (docs/data-model.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from directory.listings import queries as q
from directory.listings.texts import LocalText


def t(value: LocalText | None) -> str | None:
    return value.value if value is not None else None


def plain(value: Any) -> Any:
    """Dataclass views → JSON-ready values (LocalText → its text)."""
    if isinstance(value, LocalText):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def phone(p: q.PhoneView) -> dict[str, Any]:
    return {
        "number": p.number,
        "extension": p.extension,
        "type": p.type,
        "description": t(p.description),
        "is_hotline": p.is_hotline,
    }


def place(p: q.PlaceRef | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"id": str(p.id), "code": p.code, "kind": p.kind, "name": t(p.name)}


def location(v: q.LocationView) -> dict[str, Any]:
    a = v.address
    return {
        "id": str(v.id),
        "location_type": "physical",
        "name": t(v.name),
        "description": t(v.description),
        "transportation": t(v.transportation),
        "latitude": v.latitude,
        "longitude": v.longitude,
        "addresses": []
        if a is None
        else [
            {
                "address_1": a.address_1,
                "address_2": a.address_2,
                "city": a.city,
                "region": a.region,
                "state_province": a.state_province,
                "postal_code": a.postal_code,
                "country": a.country,
                "address_type": "physical",
            }
        ],
        "phones": [phone(p) for p in v.phones],
        "accessibility": [{"description": t(x)} for x in v.accessibility],
        # ext
        "privacy": v.privacy,
        "approximate": v.approximate,
        "timezone": v.timezone,
        "place": place(v.city),
        "region": place(v.region),
        "shelter_type": v.shelter_type,
        "capacity_maximum": v.capacity.maximum,
        "capacity_available": v.capacity.available,
        "capacity_updated": plain(v.capacity.updated),
        "has_heating": v.amenities.heating,
        "has_power": v.amenities.power,
        "has_water": v.amenities.water,
        "has_internet": v.amenities.internet,
        "has_toilets": v.amenities.toilets,
        "wheelchair_accessible": v.amenities.wheelchair,
        "pets_allowed": v.amenities.pets,
        "women_children_only": v.amenities.women_children,
        "open_during_alert": v.open_during_alert,
        "open_now": plain(v.open),
    }


def _status(s: q.StatusView) -> dict[str, Any]:
    return {
        "status": s.status,
        # the reason in the reader's language: own words, else the label of its code
        "status_reason": t(s.reason),
        "status_reason_code": s.reason_code,
        "status_since": plain(s.since),
        "status_until": plain(s.until),
        "alternative_service_id": str(s.alternative.id) if s.alternative else None,
    }


def _attributes(categories: tuple[q.CategoryRef, ...]) -> list[dict[str, Any]]:
    return [
        {
            "taxonomy_term": {
                "id": str(c.id),
                "code": c.code,
                "name": t(c.label),
                "parent_code": c.parent_code,
            }
        }
        for c in categories
    ]


def text_locales(**texts: LocalText | None) -> dict[str, str]:
    """{field: locale} of the texts shown in another language than the one asked for (the
    fallback chain: docs/listings.md), so a client can mark them up with lang/dir."""
    return {name: text.locale for name, text in texts.items() if text is not None and text.fallback}


def service_card(c: q.ServiceCard) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "organization_id": str(c.organization_id),
        "name": t(c.name),
        "alternate_name": t(c.alternate_name),
        "description": t(c.summary),
        "organization": {"id": str(c.organization_id), "name": t(c.organization_name)},
        **_status(c.status),
        "assured_date": plain(c.last_verified),
        "attributes": _attributes(c.categories),
        "phones": [phone(p) for p in c.phones],
        "languages": [{"code": code} for code in c.languages],
        "service_at_locations": [{"location": location(c.location)}] if c.location else [],
        # ext
        "location_count": c.location_count,
        "distance_km": c.distance_km,
        "distance_approximate": c.distance_approximate,
        "free_of_charge": c.free_of_charge,
        "audience": list(c.audience),
        "stale": c.stale,
        "is_demo": c.is_demo,
        "fallback": c.fallback,
        "text_locales": text_locales(
            name=c.name,
            alternate_name=c.alternate_name,
            description=c.summary,
            status_reason=c.status.reason,
        ),
    }


def service_detail(d: q.ServiceDetail) -> dict[str, Any]:
    org = d.organization
    return {
        "id": str(d.id),
        "organization_id": str(org.id),
        "name": t(d.name),
        "alternate_name": t(d.alternate_name),
        "description": t(d.description),
        "url": d.url,
        "email": d.email,
        **_status(d.status),
        "interpretation_services": t(d.interpretation_services),
        "application_process": t(d.application_process),
        "fees_description": t(d.fees),
        "eligibility_description": t(d.eligibility),
        "minimum_age": d.minimum_age,
        "maximum_age": d.maximum_age,
        "alert": t(d.alert),
        "assured_date": plain(d.last_verified),
        "last_modified": plain(d.updated_at),
        "organization": {
            "id": str(org.id),
            "name": t(org.name),
            "alternate_name": t(org.alternate_name),
            "description": t(org.description),
            "website": org.website,
            "email": org.email,
        },
        "phones": [phone(p) for p in d.phones],
        "languages": [{"code": x.code, "name": x.name, "note": t(x.note)} for x in d.languages],
        "required_documents": [
            {"document": t(x.document), "uri": x.uri} for x in d.required_documents
        ],
        "attributes": _attributes(d.categories),
        "service_at_locations": [{"location": location(v)} for v in d.locations],
        # ext
        "open_now": plain(d.open),
        "hours": plain(d.hours),
        "schedule_exceptions": plain(d.exceptions),
        "open_during_alert": d.open_during_alert,
        "free_of_charge": d.free_of_charge,
        "audience": list(d.audience),
        "stale": d.stale,
        "is_demo": d.is_demo,
        "fallback": d.fallback,
        "text_locales": text_locales(
            name=d.name,
            alternate_name=d.alternate_name,
            description=d.description,
            status_reason=d.status.reason,
            eligibility_description=d.eligibility,
            application_process=d.application_process,
            fees_description=d.fees,
            alert=d.alert,
        ),
        "version": d.version,
    }


def notice(n: q.NoticeView) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "kind": n.kind,
        "severity": n.severity,
        "title": t(n.title),
        "body": t(n.body),
        "region": place(n.region),
        "timezone": n.timezone,
        "valid_from": plain(n.valid_from),
        "valid_until": plain(n.valid_until),
        "is_demo": n.is_demo,
    }


def category(c: q.CategoryView) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "code": c.code,
        "name": t(c.label),
        "description": t(c.description),
        "icon": c.icon,
        "position": c.position,
        "children": [category(x) for x in c.children],
    }
