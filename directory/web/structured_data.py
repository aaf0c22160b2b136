"""schema.org JSON-LD for a public service page: what search engines and link previews read.

Built only from `ServiceDetail`, i.e. from what the page itself shows, already redacted by the
one privacy rule (`listings.privacy`): a confidential place has no address and no coordinates
in the detail, so it has none here either; an approximate one has its city, region and country
but no street and no `geo` (rounded coordinates would mislead a map); `geo` is given only for an
exact public place.

Texts are in the page's language (`@language` of the context); a text shown in another language
(a fallback) carries its own language tag.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from markupsafe import Markup

from directory.listings.texts import LocalText
from directory.listings.views import LocationView, ServiceDetail

#: The schema.org type by category (the most specific code first, then its top level).
TYPES: dict[str, str] = {
    "consular": "GovernmentOffice",
    "legal-documents.idp-registration": "GovernmentOffice",
    "legal-documents": "LegalService",
    "shelter.air-raid": "CivicStructure",
    "shelter": "EmergencyService",
    "heat-power": "CivicStructure",
    "food": "EmergencyService",
    "water": "CivicStructure",
    "health.pharmacy": "Pharmacy",
    "health": "MedicalClinic",
    "mental-health": "MedicalClinic",
}
DEFAULT_TYPE = "CivicStructure"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def schema_type(category_codes: list[str]) -> str:
    for code in category_codes:
        parts = code.split(".")
        for i in range(len(parts), 0, -1):
            found = TYPES.get(".".join(parts[:i]))
            if found:
                return found
    return DEFAULT_TYPE


def _text(value: LocalText | None, locale: str) -> Any:
    if value is None or not value.value:
        return None
    if value.locale == locale:
        return value.value
    return {"@value": value.value, "@language": value.locale}


def _hhmm(t: dt.time) -> str:
    return t.strftime("%H:%M")


def _address(loc: LocationView, locale: str) -> dict[str, Any] | None:
    addr = loc.address
    if addr is None or loc.privacy == "confidential":
        return None
    street = ", ".join(p for p in (addr.address_1, addr.address_2) if p)
    out = {
        "@type": "PostalAddress",
        "streetAddress": street or None,
        "postalCode": addr.postal_code,
        "addressLocality": addr.city or None,
        "addressRegion": addr.state_province or addr.region,
        "addressCountry": addr.country or None,
    }
    return {k: v for k, v in out.items() if v is not None}


def _hours(service: ServiceDetail, locale: str) -> list[dict[str, Any]]:
    first = service.locations[0] if service.locations else None
    specs: list[dict[str, Any]] = []
    if first is not None and first.amenities.open_24_7:
        specs.append(
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": [f"https://schema.org/{d}" for d in DAYS],
                "opens": "00:00",
                "closes": "23:59",
            }
        )
    else:
        for day in service.hours:
            for opens, closes in day.spans:
                specs.append(
                    {
                        "@type": "OpeningHoursSpecification",
                        "dayOfWeek": f"https://schema.org/{DAYS[day.weekday]}",
                        "opens": _hhmm(opens),
                        "closes": _hhmm(closes),
                    }
                )
    for ex in service.exceptions:
        # schema.org's convention for a day closed: opens and closes at 00:00 that day.
        closed = ex.closed or ex.opens_at is None or ex.closes_at is None
        spec: dict[str, Any] = {
            "@type": "OpeningHoursSpecification",
            "validFrom": ex.date.isoformat(),
            "validThrough": ex.date.isoformat(),
            "opens": "00:00" if closed else _hhmm(ex.opens_at),  # type: ignore[arg-type]
            "closes": "00:00" if closed else _hhmm(ex.closes_at),  # type: ignore[arg-type]
        }
        reason = _text(ex.reason, locale)
        if reason is not None:
            spec["description"] = reason
        specs.append(spec)
    return specs


def service_json_ld(service: ServiceDetail, *, locale: str, url: str) -> dict[str, Any]:
    """The JSON-LD object of a service page in `locale` (`url`: the page's canonical URL)."""
    first = service.locations[0] if service.locations else None
    out: dict[str, Any] = {
        "@context": ["https://schema.org", {"@language": locale}],
        "@type": schema_type([c.code for c in service.categories]),
        "@id": url,
        "url": url,
        "name": _text(service.name, locale),
        "alternateName": _text(service.alternate_name, locale),
        "description": _text(service.description, locale),
    }
    phones = list(service.phones) + (list(first.phones) if first else [])
    if phones:
        out["telephone"] = phones[0].number
    if first is not None:
        address = _address(first, locale)
        if address:
            out["address"] = address
        if first.privacy == "exact" and first.latitude is not None and first.longitude is not None:
            out["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": first.latitude,
                "longitude": first.longitude,
            }
    hours = _hours(service, locale)
    if hours:
        out["openingHoursSpecification"] = hours
    if service.free_of_charge is not None:
        out["isAccessibleForFree"] = service.free_of_charge
    if service.languages:
        out["availableLanguage"] = [
            {"@type": "Language", "name": lang.name or lang.code, "alternateName": lang.code}
            for lang in service.languages
        ]
    if service.organization is not None:
        out["parentOrganization"] = {
            "@type": "Organization",
            "name": _text(service.organization.name, locale),
        }
    return {k: v for k, v in out.items() if v is not None}


def script(data: dict[str, Any]) -> Markup:
    """`data` as the body of a <script type="application/ld+json"> element: JSON with <, > and
    & escaped, so no text in it can end the element."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(body)  # noqa: S704 - escaped above for a script data block
