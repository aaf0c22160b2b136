"""The public redaction rule for a location's whereabouts, shared by every read path that leaves
moderator views (search, pages, API, exports), so no adapter can leak a confidential place.

- `exact`: everything is public.
- `approximate`: coordinates rounded to 2 decimals (~1 km), no street address, postal code or
  attention line (city, region and country stay).
- `confidential`: no coordinates, no address, no description or directions; only the region and
  hotline phones are public.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from directory.listings.models import Privacy

APPROXIMATE_PLACES = Decimal("0.01")  # ~1.1 km of latitude


class _Whereabouts(Protocol):
    privacy: Privacy
    latitude: Decimal | None
    longitude: Decimal | None


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
