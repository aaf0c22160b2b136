"""Near-me by growing boxes (many matches) gives exactly the order of measuring every match
(few matches): the same services, the same distances, ties in index order, on every page, with
and without words and filters, whatever the privacy of the locations."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy.orm import Session

from directory.listings.queries import SearchParams, search_services
from directory.search import near
from directory.search.index import reindex_all
from tests.factories import make_city, make_service

NOW = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)
NEAR = (50.45, 30.52)


@pytest.fixture()
def spread(db: Session) -> None:
    """50 services from a few hundred metres to ~300 km away: exact, approximate (shown rounded
    to 0.01°) and confidential (shown at their city's centre, so several tie), some with two
    locations, every third one a "shelter", a few without coordinates."""
    rng = random.Random(7)
    region = make_city(db, name="Test Oblast")
    near_city = make_city(db, name="Near Town", region=region, lat="50.4600", lon="30.5300")
    far_city = make_city(db, name="Far Town", region=region, lat="51.9000", lon="31.2000")
    for i in range(50):
        km = rng.choice([0.3, 0.8, 1.5, 3, 6, 12, 40, 120, 300]) * rng.uniform(0.5, 1.0)
        lat = NEAR[0] + rng.uniform(-1, 1) * km / 111.0
        lon = NEAR[1] + rng.uniform(-1, 1) * km / 71.0
        privacy = ["exact", "exact", "approximate", "confidential"][i % 4]
        make_service(
            db,
            name=("Shelter " if i % 3 == 0 else "Kitchen ") + str(i),
            city=near_city if i % 2 else far_city,
            privacy=privacy,
            lat=None if i % 17 == 5 else f"{lat:.6f}",
            lon=None if i % 17 == 5 else f"{lon:.6f}",
            locations=2 if i % 5 == 0 else 1,
        )
    reindex_all(db)


def _pages(db: Session, params: SearchParams, per_page: int) -> list[list[str]]:
    out = []
    for page in range(1, 60 // per_page + 2):
        res = search_services(
            db,
            SearchParams(**{**params.__dict__, "page": page, "per_page": per_page}),
            stale_after_days=30,
        )
        out.append([f"{c.name.value}@{c.distance_km}" for c in res.items])
    return out


@pytest.mark.parametrize("q", ["", "shelter"])
@pytest.mark.parametrize("per_page", [3, 7])
def test_growing_boxes_give_the_same_pages_as_measuring_everything(
    db: Session, spread: None, monkeypatch: pytest.MonkeyPatch, q: str, per_page: int
) -> None:
    params = SearchParams(q=q, near=NEAR, sort="distance", now=NOW)
    monkeypatch.setattr(near, "SPARSE_DISTANCE", 10_000)
    everything = _pages(db, params, per_page)
    monkeypatch.setattr(near, "SPARSE_DISTANCE", 0)
    monkeypatch.setattr(near, "_FIRST_RADIUS_KM", 0.2)  # many small rings
    boxes = _pages(db, params, per_page)
    assert sum(len(p) for p in everything) >= 15  # (every listing: the pages run out)
    assert everything[-1] == []
    assert boxes == everything
