"""Counting stops at a cap: past it the reader is told "more than N", never a wrong exact
number, in every language; below it the count is exact."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from directory.listings import queries
from directory.search.index import reindex_all
from tests.factories import make_service


@pytest.fixture()
def five(db: Session) -> None:
    for i in range(5):
        make_service(db, name=f"Warming point {i}")
    reindex_all(db)


def test_a_count_past_the_cap_says_more_than(
    client, five: None, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(queries, "INDEX_COUNT_CAP", 3)
    r = client.get("/en/search?q=warming")
    assert r.status_code == 200 and "More than 3 services found" in r.text
    r = client.get("/uk/search?q=warming")
    assert "Знайдено понад 3 послуги" in r.text
    monkeypatch.setattr(queries, "INDEX_COUNT_CAP", 1000)
    r = client.get("/en/search?q=warming")
    assert "5 services found" in r.text and "More than" not in r.text
