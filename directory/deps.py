"""Typed FastAPI dependencies shared by every adapter (web, manage, api)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from directory.config import Settings
from directory.db import run_after_unit_of_work
from directory.replicas import (
    MANAGE_COOKIE,
    SAFE_METHODS,
    WAL_COOKIE,
    parse_lsn,
    primary_lsn,
    reads_replica,
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on error.

    Services never commit; this dependency does. `scope="function"` below makes the commit happen
    before the response leaves, so a client never sees a success that was not stored.
    Actions registered with `db.after_unit_of_work` run after the session is closed.
    """
    router = getattr(request.app.state, "replicas", None)
    replica = None
    if router is not None and reads_replica(request.scope, request.headers, request.cookies):
        replica = router.pick(parse_lsn(request.cookies.get(WAL_COOKIE)))
    session: Session = (replica.sessionmaker if replica else request.app.state.sessionmaker)()
    try:
        yield session
        # Read-your-writes for staff (signed in: their manage cookie; directory.replicas). A
        # reader's own writes (problem reports) are not shown on public pages, so readers never
        # get this cookie: "no cookies for readers" holds with replicas too.
        wrote = (
            router is not None
            and replica is None
            and session.in_transaction()
            and request.method not in SAFE_METHODS
            and MANAGE_COOKIE in request.cookies
        )
        session.commit()
        if wrote:
            # Read-your-writes: the WAL position this browser must see (directory.replicas).
            request.state.primary_lsn = primary_lsn(session)
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        run_after_unit_of_work(session)


DbSession = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
