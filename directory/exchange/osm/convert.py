"""An OpenStreetMap feature → one HSDS-shaped service (the shape `importer.run_import` reads):
organisation (the `operator`, else the place itself), service, place with its OSM id, address,
phone, hours and the amenity tags the directory knows.

Values the directory's write path would refuse (a malformed phone number or website) are left
out with a warning, so one odd tag never stops the import of a city.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.exchange.osm import ID_TYPE
from directory.exchange.osm.hours import parse_opening_hours
from directory.exchange.osm.reader import Feature
from directory.listings import models as m
from directory.moderation.fields import FIELDS, FieldError, clean

#: Stable ids of what a feature becomes: the same feature is the same records on every import.
OSM_NAMESPACE = uuid.UUID("0c5d1d7e-7f0e-4d59-8f3e-2a6b1b0b0511")
NEAREST_CITY_KM = 40.0

YES = {"yes", "designated", "true", "1"}
NO = {"no", "false", "0"}


def osm_uuid(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(OSM_NAMESPACE, f"{kind}|{key}")


def service_id(feature: Feature) -> uuid.UUID:
    return osm_uuid("service", feature.key)


def location_id(feature: Feature) -> uuid.UUID:
    return osm_uuid("location", feature.key)


@dataclass
class City:
    id: uuid.UUID
    region_id: uuid.UUID | None
    country: str
    name: str
    lat: float
    lon: float
    timezone: str | None


@dataclass
class Converter:
    """What a conversion needs from the directory, loaded once per import."""

    session: Session
    locales: list[str]
    default_locale: str
    cities: list[City] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, default_locale: str) -> Converter:
        locales = list(session.scalars(select(m.Locale.code)))
        place = m.Place.__table__
        rows = session.execute(
            select(
                place.c.id,
                place.c.kind,
                place.c.code,
                place.c.parent_id,
                place.c.name,
                place.c.latitude,
                place.c.longitude,
                place.c.timezone,
            )
        ).all()
        codes = {r.id: (r.code or "") for r in rows}
        cities = [
            City(
                r.id,
                r.parent_id,
                codes.get(r.parent_id, "")[:2] or "UA",
                r.name,
                float(r.latitude),
                float(r.longitude),
                r.timezone,
            )
            for r in rows
            if str(getattr(r.kind, "value", r.kind)) == "city" and r.latitude is not None
        ]
        return cls(session, locales, default_locale, cities)

    def nearest_city(self, lat: float, lon: float) -> City | None:
        best, best_km = None, NEAREST_CITY_KM
        for c in self.cities:
            km = distance_m(lat, lon, c.lat, c.lon) / 1000
            if km < best_km:
                best, best_km = c, km
        return best

    def _valid(self, feature: Feature, entity: str, name: str, value: str | None) -> Any:
        if not value:
            return None
        try:
            return clean(self.session, FIELDS[entity][name], value.strip(), now=utcnow())
        except FieldError as exc:
            self.warnings.append(f"{feature.key}: {name} {value[:60]!r} left out ({exc})")
            return None

    def names(self, feature: Feature) -> tuple[str, str, dict[str, str]]:
        """(source locale, name, other locales' names) from `name` and `name:*`."""
        tags = feature.tags
        own = {loc: tags[f"name:{loc}"].strip() for loc in self.locales if tags.get(f"name:{loc}")}
        name = (tags.get("name") or "").strip()
        if not name:
            if own:
                locale = self.default_locale if self.default_locale in own else sorted(own)[0]
                name = own[locale]
            else:  # an unnamed feature: the rule's name in each locale
                own = {k: v for k, v in feature.rule.names.items() if k in self.locales}
                locale = self.default_locale if self.default_locale in own else "en"
                name = own.get(locale) or feature.rule.category
        else:
            locale = next((loc for loc, v in own.items() if v == name), self.default_locale)
        return locale, name[:300], {k: v[:300] for k, v in own.items() if k != locale}

    def item(self, feature: Feature) -> dict[str, Any]:
        tags, rule = feature.tags, feature.rule
        locale, name, translations = self.names(feature)
        key = feature.key
        city = self.nearest_city(feature.lat, feature.lon)
        operator = (tags.get("operator") or "").strip()[:300]
        org_key = "operator:" + operator.casefold() if operator else key
        hours = parse_opening_hours(tags.get("opening_hours", ""))
        location: dict[str, Any] = {
            "id": str(location_id(feature)),
            "name": name,
            "location_type": "physical",
            "latitude": round(feature.lat, 6),
            "longitude": round(feature.lon, 6),
            "external_identifier": key,
            "external_identifier_type": ID_TYPE,
            "x_source_locale": locale,
            "x_privacy": "exact",
            "x_shelter_type": rule.shelter_type,
            "x_open_24_7": True if hours.open_24_7 else None,
            "x_capacity_maximum": _count(tags.get("capacity")),
            "x_wheelchair_accessible": _yes_no(tags.get("wheelchair")),
            "x_has_toilets": _yes_no(tags.get("toilets")),
            "x_has_water": _yes_no(tags.get("drinking_water")),
            "x_has_internet": _internet(tags.get("internet_access")),
            "x_pets_allowed": _yes_no(tags.get("dog") or tags.get("pets")),
            "x_has_heating": _yes_no(tags.get("heating")),
            "x_has_power": _yes_no(tags.get("power_supply")),
            "x_translations": {"name": translations} if translations else {},
        }
        for flag, value in rule.flags.items():
            if flag.startswith("has_") and location.get("x_" + flag) is None:
                location["x_" + flag] = value
        if city is not None:
            location["x_place"] = {"id": str(city.id)}
            if city.region_id:
                location["x_region"] = {"id": str(city.region_id)}
            if city.timezone:
                location["x_timezone"] = city.timezone
        street = tags.get("addr:street") or tags.get("addr:place")
        if street:
            number = tags.get("addr:housenumber")
            location["addresses"] = [
                {
                    "address_1": f"{street} {number}" if number else street,
                    "city": tags.get("addr:city") or (city.name if city else "") or "-",
                    "postal_code": tags.get("addr:postcode") or "",
                    "state_province": "",
                    "country": (tags.get("addr:country") or (city.country if city else "UA"))[
                        :2
                    ].upper(),
                    "address_type": "physical",
                }
            ]
        phone = (tags.get("phone") or tags.get("contact:phone") or "").split(";")[0]
        number = self._valid(feature, "phone", "number", phone)
        if number:
            location["phones"] = [{"number": number, "type": "voice"}]
        if hours.schedules:
            location["schedules"] = hours.schedules
        notes = []
        if hours.note:
            notes.append(f"opening_hours: {hours.note}")
        description = (tags.get("description") or "").strip()
        if tags.get("level") or tags.get("addr:floor"):
            notes.append(f"level: {tags.get('level') or tags.get('addr:floor')}")
        if notes:
            location["description"] = "\n".join(notes)[:5000]
        fee = tags.get("fee")
        return {
            "id": str(service_id(feature)),
            "name": name,
            "description": description[:5000],
            "url": self._valid(
                feature, "service", "url", tags.get("website") or tags.get("contact:website")
            ),
            "email": self._valid(
                feature, "service", "email", tags.get("email") or tags.get("contact:email")
            ),
            "status": "active",
            "x_source_locale": locale,
            "x_open_during_alert": rule.flags.get("open_during_alert"),
            "x_free_of_charge": True if fee in NO else False if fee in YES else None,
            "x_translations": {"name": translations} if translations else {},
            "organization": {
                "id": str(osm_uuid("organization", org_key)),
                "name": operator or name,
                "description": "",
                "x_source_locale": locale,
            },
            "attributes": [{"taxonomy_term": {"code": rule.category}}],
            "service_at_locations": [{"location": location}],
        }


def _yes_no(value: str | None) -> bool | None:
    if value is None:
        return None
    value = value.strip().lower()
    return True if value in YES else False if value in NO else None  # "limited": unknown


def _internet(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() not in NO


def _count(value: str | None) -> int | None:
    try:
        n = int((value or "").strip())
    except ValueError:
        return None
    return n if 0 <= n <= 100_000 else None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12_742_000 * math.asin(math.sqrt(min(1.0, a)))
