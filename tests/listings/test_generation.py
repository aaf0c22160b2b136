"""The data version changes with every write to public data, and only then."""

from __future__ import annotations

from sqlalchemy.orm import Session

from directory.accounts.models import Setting
from directory.listings.generation import bump, data_version
from directory.moderation import service as moderation
from tests.factories import make_account, make_listing


def test_orm_writes_to_listings_give_a_new_version(db: Session) -> None:
    before = data_version(db)
    svc, _loc = make_listing(db)
    created = data_version(db)
    assert created != before
    svc.name = "Renamed shelter"
    db.flush()
    assert data_version(db) not in (before, created)


def test_other_writes_keep_the_version(db: Session) -> None:
    make_listing(db)
    version = data_version(db)
    make_account(db, "volunteer")
    db.add(Setting(key="unrelated", value="x"))
    db.flush()
    assert data_version(db) == version


def test_an_approved_change_request_gives_a_new_version(db: Session) -> None:
    svc, _loc = make_listing(db)
    moderator = make_account(db, "moderator")
    volunteer = make_account(db, "volunteer")
    cr = moderation.propose(
        db,
        actor=volunteer,
        entity_type="service",
        kind="update",
        entity_id=svc.id,
        changes={"name": "Warm room"},
        base_version=svc.version,
    )
    db.flush()
    pending = data_version(db)
    moderation.approve(db, change_id=cr.id, reviewer=moderator)
    db.flush()
    assert data_version(db) != pending


def test_bump_is_an_upsert(db: Session) -> None:
    first = bump(db)
    second = bump(db)
    assert first != second
    assert data_version(db) == second
