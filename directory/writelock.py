"""Who holds the database for writing for longer than a request would wait (a CLI import
publishing its changes), so that a writer that timed out can be told why and when to retry.

The holder announces itself in the `setting` table (key `write_lock_holder`, committed in its
own short transaction before it takes the lock) and withdraws when done; a notice older than its
own estimate plus `GRACE` is ignored (a killed import leaves one behind).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Column, Engine, MetaData, String, Table, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from directory.db import sqlite_read_only, utcnow

log = logging.getLogger("directory.writelock")

KEY = "write_lock_holder"
GRACE = dt.timedelta(minutes=2)
# The `setting` table (accounts.models.Setting) as a Core table, like listings.generation.
_setting = Table(
    "setting", MetaData(), Column("key", String(100), primary_key=True), Column("value", Text)
)


@dataclass(frozen=True)
class Holder:
    what: str  # "import"
    since: dt.datetime
    until: dt.datetime  # its own estimate of when it lets go

    def retry_after(self, now: dt.datetime) -> int:
        """Seconds to wait before retrying: until the estimate, at least 1, at most 300."""
        return max(1, min(300, int((self.until - now).total_seconds()) + 1))


def announce(engine: Engine, *, what: str, seconds: float, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    value = json.dumps(
        {
            "what": what,
            "since": now.isoformat(),
            "until": (now + dt.timedelta(seconds=seconds)).isoformat(),
        }
    )
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(_setting).values(key=KEY, value=value)
    with engine.begin() as conn:
        conn.execute(
            stmt.on_conflict_do_update(index_elements=[_setting.c.key], set_={"value": value})
        )


def withdraw(engine: Engine) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(delete(_setting).where(_setting.c.key == KEY))
    except SQLAlchemyError:  # the notice expires on its own
        log.warning("could not withdraw the write-lock notice", exc_info=True)


@contextmanager
def holding(engine: Engine, *, what: str, seconds: float) -> Iterator[None]:
    """Announce `what` for the block (expected to take about `seconds`)."""
    announce(engine, what=what, seconds=seconds)
    try:
        yield
    finally:
        withdraw(engine)


def current(engine: Engine, now: dt.datetime | None = None) -> Holder | None:
    """The announced holder, if its notice is fresh. A read that never waits for the lock."""
    now = now or utcnow()
    token = sqlite_read_only.set(True)  # SQLite: a plain BEGIN, not BEGIN IMMEDIATE
    try:
        with engine.connect() as conn:
            raw = conn.scalar(select(_setting.c.value).where(_setting.c.key == KEY))
    except SQLAlchemyError:
        return None
    finally:
        sqlite_read_only.reset(token)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        holder = Holder(
            what=str(data["what"]),
            since=dt.datetime.fromisoformat(data["since"]),
            until=dt.datetime.fromisoformat(data["until"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    return holder if now <= holder.until + GRACE else None
