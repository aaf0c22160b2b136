"""The data version: a token that changes whenever anything a reader can see changes.

Readers use it to key what they may keep between requests (lists of places and categories,
ETags of anonymous pages): while the token is the same, the published directory is the same.

Every ORM flush that adds, changes or deletes a record of `directory.listings.models`
(services, places, translations, notices, ...) writes a new random token in the same
transaction, so the token commits or rolls back with the data (`after_flush` below catches every
write path: moderation, demo loader, manage app). Code that writes with Core statements instead
of the ORM (bulk import, `aid-directory generate`, label sync) calls `bump(session)` itself.

A random token rather than a counter: concurrent writers never need to read-modify-write one row,
and any change gives a value no reader has seen.

Time-dependent facts (open now, closed until 18:00) are not covered: callers that cache
anything time-dependent add the current minute to their key.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

KEY = "data_version"
_PUBLIC_MODULE = "directory.listings.models"
# The `setting` table (accounts.models.Setting) as a Core table: importing the model here would
# be circular (listings.models registers this module's hook).
Setting = Table(
    "setting", MetaData(), Column("key", String(100), primary_key=True), Column("value", Text)
)


def data_version(session: Session) -> str:
    """The current token ("0" before the first write of a fresh database)."""
    return session.scalar(select(Setting.c.value).where(Setting.c.key == KEY)) or "0"


def bump(session: Session) -> str:
    """Give the directory a new data version (in the caller's transaction)."""
    token = uuid.uuid4().hex
    values = {"key": KEY, "value": token}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(Setting).values(values)
        stmt: Any = pg.on_conflict_do_update(index_elements=[Setting.c.key], set_={"value": token})
    else:
        lite = sqlite.insert(Setting).values(values)
        stmt = lite.on_conflict_do_update(index_elements=[Setting.c.key], set_={"value": token})
    session.execute(stmt)
    return token


def _touches_public_data(session: Session) -> bool:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj).__module__ == _PUBLIC_MODULE:
            return True
    return False


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _touches_public_data(session):
        session.info["_data_version_due"] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if session.info.pop("_data_version_due", False):
        bump(session)
