"""Reads only the manage pages need (never a write: writes go through `directory.moderation`)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session, selectinload

from directory.accounts.models import Account


def load_account(session: Session, account_id: uuid.UUID) -> Account | None:
    """The account a session cookie names, with its region scopes."""
    return session.get(Account, account_id, options=[selectinload(Account.regions)])
