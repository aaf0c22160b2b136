"""Accounts: people who propose, review and administer listings. Readers never have one."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.db import Base, Entity, utcnow
from directory.listings.models import StrEnum, _enum


class Role(StrEnum):
    volunteer = "volunteer"
    moderator = "moderator"
    admin = "admin"


class Account(Entity):
    """A volunteer, moderator or admin (`user` is a reserved word in PostgreSQL)."""

    __tablename__ = "account"

    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored casefolded
    display_name: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(ForeignKey("locale.code"), default="en")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.volunteer)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(default=False)
    trusted: Mapped[bool] = mapped_column(default=False)  # may publish status/capacity at once
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column()
    #: The last TOTP time step accepted (enrolment included): a code is accepted only for a
    #: later step, so each code signs in once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[dt.datetime | None] = mapped_column()
    password_changed_at: Mapped[dt.datetime | None] = mapped_column()

    regions: Mapped[list[AccountRegion]] = relationship(lazy="raise", cascade="all, delete-orphan")


class AccountRegion(Base):
    """A region (place) an account is limited to. No rows = not limited."""

    __tablename__ = "account_region"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    place_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("place.id"), primary_key=True)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the secret is shown once at creation."""

    __tablename__ = "api_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, to recognise it in lists
    scopes: Mapped[str] = mapped_column(String(200), default="read write")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class AccountSession(Base):
    """A signed-in web session. The cookie carries a random secret; only its SHA-256 is stored.

    Signing out deletes the row, and so do a password change and disabling the account: the
    cookie (and every CSRF token derived from it) stops working at once, wherever it was copied.
    """

    __tablename__ = "account_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the secret
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class RecoveryCode(Base):
    """A one-time second-factor recovery code (hashed)."""

    __tablename__ = "recovery_code"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[dt.datetime | None] = mapped_column()


class AuthFailure(Base):
    """One failed authentication under one counter's key (a keyed hash: `accounts.throttle`),
    shared by every worker and host."""

    __tablename__ = "auth_failure"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Setting(Base):
    """Admin-editable runtime settings (e.g. trusted volunteers may publish at once)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    __table_args__ = (CheckConstraint("length(key) > 0", name="key"),)
