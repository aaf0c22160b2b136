"""Typed FastAPI dependencies shared by every adapter (web, manage, api)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from directory.config import Settings
from directory.db import run_after_unit_of_work


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on error.

    Services never commit; this dependency does. `scope="function"` below makes the commit happen
    before the response leaves, so a client never sees a success that was not stored.
    Actions registered with `db.after_unit_of_work` run after the session is closed.
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        run_after_unit_of_work(session)


DbSession = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
