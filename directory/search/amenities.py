"""The yes/no filters of a search, in one table: the reader's parameter (a `SearchParams` field,
the query parameter of the pages and the API), the location flag it asks for and the facet
token the search index stores for it. The index, the filters and the pages all read this table;
tests check that the pages and the API offer exactly these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Amenity:
    param: str  # SearchParams field and query parameter
    column: str  # the `location` flag
    token: str  # the facet token (a service has it when any of its live locations has the flag)


AMENITY_FILTERS: tuple[Amenity, ...] = (
    Amenity("wheelchair", "wheelchair_accessible", "wheelchair"),
    Amenity("pets", "pets_allowed", "pets"),
    Amenity("women_children", "women_children_only", "womenchildren"),
    Amenity("heating", "has_heating", "heating"),
    Amenity("power", "has_power", "power"),
    Amenity("water", "has_water", "water"),
    Amenity("internet", "has_internet", "internet"),
)
#: Every yes/no filter the index answers (param → token): the amenities, free places at a
#: location and free of charge (a service's own fact).
FACET_FLAGS: tuple[tuple[str, str], ...] = (
    *((a.param, a.token) for a in AMENITY_FILTERS),
    ("has_capacity", "capacity"),
    ("free", "free"),
)
#: Every yes/no filter a reader can set: the facet flags and "open now" (evaluated per request).
FLAG_PARAMS: tuple[str, ...] = ("open_now", *(param for param, _token in FACET_FLAGS))
