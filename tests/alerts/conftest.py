"""Alert feeds in tests: the real gazetteer, a session factory inside the test's rolled-back
transaction, and recorded feed documents served by a local HTTP server (pytest-httpserver)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture()
def gaz(db: Session) -> Session:
    """The test database with the directory's own gazetteer (regions with their points)."""
    from directory.listings.places import ensure_places

    ensure_places(db)
    db.flush()
    return db


@pytest.fixture()
def Session_(gaz: Session) -> sessionmaker[Session]:  # noqa: N802 (a factory, named like one)
    """What the watcher opens: sessions on the test's connection whose commits are savepoints."""
    return sessionmaker(
        bind=gaz.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


def cap_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone(dt.timedelta(hours=2))).strftime("%Y-%m-%dT%H:%M:%S+02:00")


@pytest.fixture()
def fixture_text() -> Callable[..., str]:
    def load(name: str, **values: str) -> str:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    return load
