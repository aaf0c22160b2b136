"""What the alert watcher remembers: each feed's health and conditional-request state, every message
it has acted on (so duplicates, replays and out-of-order messages change nothing), and which notices
a feed started (so it can update and end them, and a moderator can pin one against the feed)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory.db import Base, utcnow


class AlertFeed(Base):
    """One configured feed (by URL): when it last answered, its validators, its failures."""

    __tablename__ = "alert_feed"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="cap")  # cap (message or index) | state
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_success_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Entries of an index already handled ({entry id: updated}), so an unchanged entry is not
    # fetched again; bounded to the entries of the index's last answer.
    seen: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertMessage(Base):
    """A message the watcher has received: CAP `sender|identifier`, or a region-state observation
    (`state|<feed>|<region>|<since>`). The unique key makes a second watcher's copy a no-op."""

    __tablename__ = "alert_message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(1100), unique=True)
    feed_url: Mapped[str] = mapped_column(String(2000))
    sent: Mapped[dt.datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))  # Actual Exercise System Test Draft
    msg_type: Mapped[str] = mapped_column(String(20))  # Alert Update Cancel (state: Alert/Cancel)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of earlier messages
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the message as received
    outcome: Mapped[str] = mapped_column(String(40))  # applied, not-public, expired, no-region, ...
    summary: Mapped[str] = mapped_column(Text, default="")  # headline/event, for moderators
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class AlertNotice(Base):
    """A notice started by a feed: the message thread it belongs to and its region."""

    __tablename__ = "alert_notice"

    notice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True
    )
    feed_url: Mapped[str] = mapped_column(String(2000))
    message_key: Mapped[str] = mapped_column(
        String(1100), index=True
    )  # the thread's latest message
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"), index=True)
    alert_type: Mapped[str] = mapped_column(
        String(40), default=""
    )  # air_raid, shelling, ... ("" = CAP)
    pinned: Mapped[bool] = mapped_column(default=False)  # a moderator keeps it
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(index=True)
