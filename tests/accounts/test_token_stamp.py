"""Issue 18.1: a token's last-use stamp never takes a lock inside the request's unit of work and
never waits for one: it is written after the request, at most once a minute, in its own short
transaction, and skipped when another transaction holds the row (PostgreSQL) or the write lock
(SQLite)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select, text

from directory.accounts import service
from directory.accounts.models import Account, ApiToken
from directory.db import make_sessionmaker, session_scope, utcnow
from tests.factories import make_account, make_token


@pytest.fixture()
def committed_token(engine: Engine) -> Iterator[tuple[str, object]]:
    """A token whose rows are committed (the stamp runs on its own connection)."""
    with make_sessionmaker(engine)() as db:
        acc = make_account(db, "volunteer")
        secret = make_token(db, acc)
        db.commit()
        account_id = acc.id
    try:
        yield secret, account_id
    finally:
        with make_sessionmaker(engine)() as db:
            db.execute(delete(ApiToken).where(ApiToken.account_id == account_id))
            db.execute(delete(Account).where(Account.id == account_id))
            db.commit()


def _last_used(engine: Engine, account_id: object) -> dt.datetime | None:
    with make_sessionmaker(engine)() as db:
        return db.scalar(select(ApiToken.last_used_at).where(ApiToken.account_id == account_id))


def test_stamp_after_the_unit_of_work_at_most_once_a_minute(
    engine: Engine, committed_token: tuple[str, object]
) -> None:
    secret, account_id = committed_token
    factory = make_sessionmaker(engine)
    with session_scope(factory) as db:
        service.account_for_token(db, secret=secret)
        assert not db.dirty and not db.new  # nothing written inside the unit of work
    first = _last_used(engine, account_id)
    assert first is not None and utcnow() - first < dt.timedelta(minutes=1)
    with session_scope(factory) as db:  # again within the minute: not due, nothing registered
        service.account_for_token(db, secret=secret)
        assert not db.info.get("_after_unit_of_work")
    assert _last_used(engine, account_id) == first
    later = first + dt.timedelta(minutes=2)
    with session_scope(factory) as db:
        service.account_for_token(db, secret=secret, now=later)
    assert _last_used(engine, account_id) == later


def test_stamp_skips_instead_of_waiting_for_a_lock(
    engine: Engine, committed_token: tuple[str, object]
) -> None:
    _secret, account_id = committed_token
    with make_sessionmaker(engine)() as db:
        token_id = db.scalar(select(ApiToken.id).where(ApiToken.account_id == account_id))
    assert token_id is not None
    with engine.connect() as holder:
        # Another transaction holds the token's row (PostgreSQL) / the write lock (SQLite).
        holder.execute(
            text("UPDATE api_token SET scopes = scopes WHERE id = :id"),
            {"id": token_id.hex if engine.dialect.name == "sqlite" else token_id},
        )
        started = time.monotonic()
        stamped = service.stamp_token_use(engine, token_id=token_id, now=utcnow())
        waited = time.monotonic() - started
        holder.rollback()
    assert stamped is False and waited < 2.0, waited
    assert _last_used(engine, account_id) is None
    assert service.stamp_token_use(engine, token_id=token_id, now=utcnow()) is True
    assert _last_used(engine, account_id) is not None
