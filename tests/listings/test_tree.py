"""The one walk up and the one walk down the place tree (and the category tree)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.tree import lineage, places_up, subtree
from tests.factories import make_place

A, B, C, D = (uuid.UUID(int=i) for i in range(1, 5))


def test_lineage_goes_up_nearest_first_and_stops_at_the_top() -> None:
    parents = {C: B, B: A, A: None}
    assert lineage(C, parents.get) == [C, B, A]
    assert lineage(A, parents.get) == [A]
    assert lineage(None, parents.get) == []
    assert lineage(D, parents.get) == [D]  # unknown: just itself (callers filter)


def test_a_loop_in_the_data_ends_the_walk() -> None:
    assert lineage(A, {A: B, B: A}.get) == [A, B]
    assert lineage(A, {A: A}.get) == [A]


def test_subtree_is_the_root_and_everything_below_it() -> None:
    pairs = [(A, None), (B, A), (C, B), (D, None)]
    assert subtree(A, pairs) == {A, B, C}
    assert subtree(B, pairs) == {B, C}
    assert subtree(D, pairs) == {D}
    assert subtree(A, [(A, B), (B, A)]) == {A, B}  # a loop too


def test_places_up_reads_through_the_session(db: Session) -> None:
    country = make_place(db, name="Testland", kind=m.PlaceKind.country)
    region = make_place(db, name="Test Oblast", parent=country)
    city = make_place(db, name="Testville", kind=m.PlaceKind.city, parent=region)
    assert [p.id for p in places_up(db, city.id)] == [city.id, region.id, country.id]
    assert places_up(db, None) == []
