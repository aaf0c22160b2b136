"""Change requests, public reports and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory.db import Base, Entity, utcnow
from directory.listings.models import StrEnum, _enum


class ChangeState(StrEnum):
    pending = "pending"
    approved = "approved"  # approved and applied
    rejected = "rejected"
    withdrawn = "withdrawn"


class ChangeKind(StrEnum):
    create = "create"
    update = "update"
    archive = "archive"
    restore = "restore"
    status = "status"
    capacity = "capacity"
    verify = "verify"
    revert = "revert"


class ChangeRequest(Entity):
    """A proposed change to one record: the proposed values, the version it was based on,
    who proposed it and why. Applying it is the only way a published record changes."""

    __tablename__ = "change_request"

    kind: Mapped[ChangeKind] = mapped_column(_enum(ChangeKind, "change_kind"))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ChangeState] = mapped_column(
        _enum(ChangeState, "change_state"), default=ChangeState.pending
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="api")  # api, web, import, cli
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    review_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    # A published change a moderator should still look at (trusted volunteer's quick update).
    needs_review: Mapped[bool] = mapped_column(default=False)
    # Fraud guard: touches phone/address/coordinates/website/email → a second moderator approves.
    sensitive: Mapped[bool] = mapped_column(default=False)
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"), index=True)
    service_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # A new listing proposed as one unit (organisation, service, place, address, phones, hours):
    # the change requests of one group share this id, are reviewed together and approved or
    # rejected as a whole (`moderation.service.group_of`). None for a change on its own.
    group_id: Mapped[uuid.UUID | None] = mapped_column(index=True)

    __table_args__ = (Index("ix_change_request_state_created", "state", "created_at"),)


class ReportKind(StrEnum):
    wrong = "wrong"
    closed = "closed"
    full = "full"
    locked = "locked"
    no_answer = "no_answer"
    other = "other"


class ReportState(StrEnum):
    open = "open"
    resolved = "resolved"
    dismissed = "dismissed"


class Report(Entity):
    """A reader's anonymous report about a service. No personal data is stored."""

    __tablename__ = "report"

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service.id"), index=True)
    kind: Mapped[ReportKind] = mapped_column(_enum(ReportKind, "report_kind"))
    text: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(12))
    state: Mapped[ReportState] = mapped_column(
        _enum(ReportState, "report_state"), default=ReportState.open
    )
    handled_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    handled_at: Mapped[dt.datetime | None] = mapped_column()


class AuditEntry(Base):
    """One published change: who, when, through which change request, each field before/after.
    Append-only."""

    __tablename__ = "audit_entry"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    entity_version: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    change_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("change_request.id"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    approver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {field: [before, after]}
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # full record after the change

    __table_args__ = (Index("ix_audit_entry_entity", "entity_type", "entity_id", "at"),)
