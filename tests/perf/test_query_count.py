"""No N+1 queries: each public page runs the same number of SQL statements whether it shows
2 results or 20, and a service page the same whether the service has 1 location or 5.

Statements are counted on the engine (`before_cursor_execute`) around one HTTP request made
through the app, after a warm-up request (caches of categories, places, translations).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from directory.listings.models import Phone, Place, Service
from directory.search.index import reindex_services
from tests.factories import categorise, make_city, make_service, make_term


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


class World:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.region = make_city(db, name="Benchregion", aliases="Бенчрегіон")
        self.city = make_city(
            db, name="Benchcity", region=self.region, lat="50.45", lon="30.52", aliases="Бенчсіті"
        )
        self.term = make_term(db, code="food", name="Food", labels={"uk": "Їжа"})
        self.services: list[Service] = []

    def add(self, count: int) -> None:
        new = []
        for i in range(count):
            svc = make_service(
                self.db,
                name=f"Soup kitchen {len(self.services) + i}",
                description="Hot meals and tea",
                city=self.city,
                region=self.region,
                lat="50.45",
                lon="30.52",
            )
            categorise(self.db, svc, self.term)
            new.append(svc)
        self.services += new
        reindex_services(self.db, [s.id for s in new])
        self.db.flush()


@pytest.fixture()
def world(db: Session) -> World:
    return World(db)


def _statements(
    client: Any, engine: Engine, path: str, headers: dict[str, str] | None = None
) -> int:
    client.get(path, headers=headers or {})  # warm-up
    with counting(engine) as statements:
        resp = client.get(path, headers=headers or {})
    assert resp.status_code == 200, (path, resp.status_code)
    return len(statements)


def _search_paths(world: World) -> dict[str, tuple[str, dict[str, str]]]:
    region = world.region
    assert isinstance(region, Place)
    return {
        "search": ("/en/search?q=soup", {}),
        "search, Cyrillic locale": ("/uk/search?q=soup", {}),
        "filter": (f"/en/search?category=food&place={region.id}", {}),
        "near-me": ("/en/search?near=50.45,30.52&sort=distance", {}),
        "htmx fragment": ("/en/search?q=soup", {"HX-Request": "true"}),
        "API search": ("/api/v1/services?q=soup", {}),
    }


@pytest.mark.parametrize(
    "page",
    ["search", "search, Cyrillic locale", "filter", "near-me", "htmx fragment", "API search"],
)
def test_result_pages_do_not_grow_with_results(
    client: Any, engine: Engine, world: World, page: str
) -> None:
    path, headers = _search_paths(world)[page]
    world.add(2)
    few = _statements(client, engine, path, headers)
    world.add(18)
    many = _statements(client, engine, path, headers)
    assert few > 0
    assert many == few, f"{page}: {few} statements for 2 results, {many} for 20 (N+1?)"


def test_home_page_statements_do_not_grow_with_listings(
    client: Any, engine: Engine, world: World
) -> None:
    world.add(1)
    few = _statements(client, engine, "/en/")
    world.add(20)
    assert _statements(client, engine, "/en/") == few


def test_service_page_statements_do_not_grow_with_related_records(
    client: Any, engine: Engine, world: World, db: Session
) -> None:
    one = make_service(db, name="Small one", city=world.city, region=world.region)
    five = make_service(db, name="Big one", city=world.city, region=world.region, locations=5)
    categorise(db, one, world.term)
    categorise(db, five, world.term)
    for svc in (one, five):
        db.add(Phone(service_id=svc.id, number="+380441234567"))
    db.add_all([Phone(service_id=five.id, number=f"+38044123456{i}") for i in range(4)])
    reindex_services(db, [one.id, five.id])
    db.flush()
    small = _statements(client, engine, f"/en/services/{one.id}")
    big = _statements(client, engine, f"/en/services/{five.id}")
    assert small > 0
    assert big == small, f"service page: {small} statements for 1 location, {big} for 5"
