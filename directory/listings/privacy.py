"""The one redaction rule for a location's whereabouts, shared by every read path that leaves
moderator views (search, pages, API, exports, and the staff views of volunteers: manage pages,
diffs, API change requests — `LOCATING_FIELDS`, `sees_whereabouts`), so no adapter can leak a
confidential place.

- `exact`: everything is public.
- `approximate`: coordinates rounded to 2 decimals (~1 km), no street address, postal code or
  attention line (city, region and country stay).
- `confidential`: no coordinates, no address, no description or directions; only the region and
  hotline phones are public.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session

from directory.listings.models import Privacy

APPROXIMATE_PLACES = Decimal("0.01")  # ~1.1 km of latitude


class _Whereabouts(Protocol):
    privacy: Privacy
    latitude: Decimal | None
    longitude: Decimal | None


class _Located(Protocol):
    privacy: Privacy
    region_id: uuid.UUID | None
    place_id: uuid.UUID | None


@dataclass(frozen=True)
class PublicLocationView:
    """What the public may see of one location's whereabouts."""

    latitude: Decimal | None
    longitude: Decimal | None
    show_street_address: bool  # address_1, address_2, postal_code, attention
    show_address: bool  # any address row at all (city, region, country)
    show_directions: bool  # description, transportation, accessibility details
    only_hotline_phones: bool
    approximate: bool


def _round(value: Decimal | float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(APPROXIMATE_PLACES, rounding=ROUND_HALF_EVEN)


def public_coordinates(
    privacy: Privacy | str, latitude: Decimal | float | None, longitude: Decimal | float | None
) -> tuple[Decimal | None, Decimal | None]:
    """The coordinates the public may see (None, None for confidential places)."""
    privacy = Privacy(privacy)
    if privacy is Privacy.confidential:
        return None, None
    if privacy is Privacy.approximate:
        return _round(latitude), _round(longitude)
    lat = None if latitude is None else Decimal(str(latitude))
    lon = None if longitude is None else Decimal(str(longitude))
    return lat, lon


def public_location_view(location: _Whereabouts) -> PublicLocationView:
    """The public view of a location's whereabouts (see the module docstring for the rule)."""
    privacy = Privacy(location.privacy)
    lat, lon = public_coordinates(privacy, location.latitude, location.longitude)
    return PublicLocationView(
        latitude=lat,
        longitude=lon,
        show_street_address=privacy is Privacy.exact,
        show_address=privacy is not Privacy.confidential,
        show_directions=privacy is Privacy.exact,
        only_hotline_phones=privacy is Privacy.confidential,
        approximate=privacy is Privacy.approximate,
    )


# --- staff views: who sees where a confidential place is ----------------------------------------

#: Every field that locates a place, by record type. Of a place that is not `exact`, only the
#: moderators and admins whose regions include it see these (`sees_whereabouts`); everyone else
#: — volunteers of its own region and of others, partners' tokens, the public — sees the place
#: as the public does. Manage pages, htmx fragments, diffs, the conflict view, API change
#: requests and token reads all hide exactly these fields.
LOCATING_FIELDS: dict[str, frozenset[str]] = {
    "location": frozenset(
        {"name", "alternate_name", "description", "transportation", "latitude", "longitude", "url"}
    ),
    "address": frozenset(
        {"attention", "address_1", "address_2", "city", "region", "state_province", "postal_code"}
    ),
    "accessibility": frozenset({"description", "details", "url"}),
}


def is_locating(entity_type: str, field: str) -> bool:
    """Does `field` (or `field@locale`, a translation) of an `entity_type` locate a place?"""
    return field.split("@", 1)[0] in LOCATING_FIELDS.get(entity_type, frozenset())


def sees_whereabouts(session: Session, viewer: Any, location: _Located | None) -> bool:
    """May `viewer` (an account, or None for the public) see the locating fields of `location`?

    Yes for an exact place; for an approximate or confidential one only a moderator or admin
    whose regions include it. A volunteer — even of the place's own region — never: a
    volunteer account is easy to get and a shelter's address is what an abuser looks for."""
    if location is None or Privacy(location.privacy) is Privacy.exact:
        return True
    if viewer is None:
        return False
    # imported here: the exports read the public rule above and need none of the accounts
    # service (its import costs a command line 0.2 s of CPU)
    from directory.accounts.service import in_scope, is_moderator

    return bool(
        is_moderator(viewer) and in_scope(session, viewer, [location.region_id, location.place_id])
    )
