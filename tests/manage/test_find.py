"""The manage app finds listings with the public search's rule (`search.match`), and also those
the public never sees: inactive, defunct, just created (not indexed yet). Archived: never."""

from __future__ import annotations

from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.manage.queries import find_listings
from directory.search.index import reindex_all, reindex_services
from tests.factories import make_city, make_service


def _names(db: Session, q: str) -> set[str]:
    return {row.name for row in find_listings(db, q=q)}


def test_staff_search_finds_what_the_public_search_finds(db: Session) -> None:
    lviv = make_city(db, name="Львів", aliases="Lviv Lwów Lemberg")
    make_service(db, name="Гуртожиток на Личакові", city=lviv, org_name="Карітас")
    make_service(db, name="Warming point", org_name="Red Cross")
    reindex_all(db)
    assert _names(db, "гуртожиток Львів") == {"Гуртожиток на Личакові"}
    assert _names(db, "gurtozhitok lviv") == {"Гуртожиток на Личакові"}  # any script
    assert _names(db, "карітас") == {"Гуртожиток на Личакові"}  # by its organisation
    assert _names(db, "warm") == {"Warming point"}  # word beginnings
    assert _names(db, "warmimg") == {"Warming point"}  # a typo, corrected
    assert _names(db, "nowhere") == set()


def test_staff_find_a_name_whose_word_is_inflected(db: Session) -> None:
    """Maria types "гуртожиток"; the listing says "в гуртожитку" (scenario: a volunteer)."""
    lviv = make_city(db, name="Львів", aliases="Lviv")
    make_service(db, name="Місце проживання в гуртожитку № 2", city=lviv)
    make_service(db, name="Warming point")
    reindex_all(db)
    assert _names(db, "гуртожиток Львів") == {"Місце проживання в гуртожитку № 2"}


def test_staff_find_listings_the_index_leaves_out_but_never_archived_ones(db: Session) -> None:
    closed = make_service(db, name="Closed canteen")
    reindex_all(db)
    closed.status = m.ServiceStatus.inactive
    make_service(db, name="Canteen opened a minute ago")  # not indexed yet
    gone = make_service(db, name="Archived canteen")
    db.flush()
    reindex_services(db, [closed.id])  # inactive: it leaves the index
    from directory.db import utcnow

    gone.archived_at = utcnow()
    db.flush()
    assert _names(db, "canteen") == {"Closed canteen", "Canteen opened a minute ago"}
    assert _names(db, "opened minute") == {"Canteen opened a minute ago"}  # words no index holds
