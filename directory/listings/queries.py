"""The public read path under its old name: a facade re-exporting what moved (issue 17).

Where things live now:
- `directory.search.service.search_services` and the rest of search: `search.params` (what was
  asked, the results, the cursor), `search.filters`, `search.ranking` (counts and relevance
  tiers), `search.near` (near-me);
- `directory.listings.views`: the view types a reader may see (already redacted);
- `directory.listings.reference`: places, categories and notices (cached per process);
- `directory.listings.hours_sql`: "open now" in SQL, the twin of `listings.hours`;
- `directory.listings.loading` and `directory.listings.cards`: cards and the service page.

New code imports from those modules; this facade stays while callers move over.
"""

from __future__ import annotations

from directory.listings.cards import get_service_detail
from directory.listings.reference import list_categories, list_places, notices_in_force
from directory.listings.views import (
    AddressView,
    Amenities,
    Capacity,
    CategoryRef,
    CategoryView,
    DocumentView,
    ExceptionView,
    LanguageView,
    LocationView,
    NoticeView,
    OrganizationView,
    PhoneView,
    PlaceRef,
    PlaceView,
    ServiceCard,
    ServiceDetail,
    ServiceRef,
    StatusView,
)
from directory.search.near import haversine_km
from directory.search.params import (
    MAX_PER_PAGE,
    SearchParams,
    SearchResults,
    Sort,
    decode_cursor,
    encode_cursor,
)
from directory.search.ranking import COUNT_CAP
from directory.search.service import search_services

__all__ = [
    "COUNT_CAP",
    "MAX_PER_PAGE",
    "AddressView",
    "Amenities",
    "Capacity",
    "CategoryRef",
    "CategoryView",
    "DocumentView",
    "ExceptionView",
    "LanguageView",
    "LocationView",
    "NoticeView",
    "OrganizationView",
    "PhoneView",
    "PlaceRef",
    "PlaceView",
    "SearchParams",
    "SearchResults",
    "ServiceCard",
    "ServiceDetail",
    "ServiceRef",
    "Sort",
    "StatusView",
    "decode_cursor",
    "encode_cursor",
    "get_service_detail",
    "haversine_km",
    "list_categories",
    "list_places",
    "notices_in_force",
    "search_services",
]
