"""One search as asked (`SearchParams`) and its answer (`SearchResults`), with the opaque
paging cursor. Shared by the HTML pages, the JSON API and the map."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Literal

from directory.listings.views import ServiceCard

Sort = Literal["relevance", "distance"]


MAX_PER_PAGE = 100


@dataclass(frozen=True)
class SearchParams:
    """One search as a reader (or an API client) asked for it. Every field is optional."""

    q: str = ""
    category: str | None = None  # taxonomy term code; includes its sub-categories
    place: str | None = None  # place id or code; a region includes its cities
    open_now: bool = False
    free: bool = False
    language: str | None = None  # ISO 639 code of a language spoken ("uk", "ar")
    wheelchair: bool = False
    pets: bool = False
    women_children: bool = False
    heating: bool = False
    power: bool = False
    water: bool = False
    internet: bool = False
    has_capacity: bool = False
    #: An ordering, not a filter: services open during air-raid alerts first (a danger
    #: notice's "Find a shelter"), then the usual order.
    alert_first: bool = False
    near: tuple[float, float] | None = None  # (lat, lon), already rounded by the reader's phone
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    cursor: str | None = None  # opaque, from SearchResults.next_cursor (wins over `page`)
    locale: str = "en"
    now: dt.datetime | None = None  # defaults to the current time


@dataclass(frozen=True)
class SearchResults:
    items: list[ServiceCard]
    total: int
    page: int
    per_page: int
    next_cursor: str | None
    suggestion: str | None = None  # "did you mean": the corrected query when typos were fixed
    corrected: bool = False  # the items are those of `suggestion` (nothing matched `q`)
    total_exact: bool = True  # False: `total` is a lower bound ("more than 1,000"; with


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset in an opaque cursor; 0 for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = int(json.loads(raw)["o"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return 0
    return max(0, offset)
