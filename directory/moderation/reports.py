"""Readers' anonymous reports about a service, and their handling by moderators."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.accounts.models import Account
from directory.accounts.service import is_moderator
from directory.db import utcnow
from directory.errors import Forbidden, NotFound, TooManyRequests, ValidationFailed
from directory.listings import models as m
from directory.moderation.models import Report, ReportKind, ReportState

#: Reports about one service per hour before 429 (a flood would bury the real ones).
REPORTS_PER_SERVICE_PER_HOUR = 30


def report(
    session: Session,
    *,
    service_id: uuid.UUID,
    kind: ReportKind | str,
    text: str | None = None,
    locale: str | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """A reader's anonymous report about a service (no account, nothing personal stored)."""
    now = now or utcnow()
    svc = session.get(m.Service, service_id)
    if svc is None or svc.archived_at is not None:
        raise NotFound("No such service")
    try:
        kind = ReportKind(kind)
    except ValueError:
        raise ValidationFailed(
            [{"path": "kind", "code": "unknown_kind", "message": "unknown kind of report"}]
        ) from None
    recent = (
        session.scalar(
            select(func.count())
            .select_from(Report)
            .where(Report.service_id == service_id, Report.created_at > now - dt.timedelta(hours=1))
        )
        or 0
    )
    if recent >= REPORTS_PER_SERVICE_PER_HOUR:
        raise TooManyRequests(
            "Many reports about this service already; thank you", retry_after=3600
        )
    if text is not None:
        from directory.textinput import TextInputError, clean_text

        try:
            text = clean_text(text, max_length=2000) or None
        except TextInputError as exc:
            raise ValidationFailed([exc.at("text")]) from None
    if locale is not None and session.get(m.Locale, locale) is None:
        raise ValidationFailed(
            [{"path": "locale", "code": "unknown_locale", "message": "unknown locale"}]
        )
    row = Report(
        service_id=service_id, kind=kind, text=text, locale=locale, created_at=now, updated_at=now
    )
    session.add(row)
    session.flush()
    return row


def resolve_report(
    session: Session, *, report_id: uuid.UUID, moderator: Account, dismiss: bool = False
) -> Report:
    if not is_moderator(moderator):
        raise Forbidden("Only moderators handle reports")
    row = session.get(Report, report_id)
    if row is None:
        raise NotFound("No such report")
    row.state = ReportState.dismissed if dismiss else ReportState.resolved
    row.handled_by_id = moderator.id
    row.handled_at = utcnow()
    session.flush()
    return row
