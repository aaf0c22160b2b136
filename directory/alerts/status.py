"""The alert state a page shows besides the notices in force: alerts that ended a short while ago
("Alert ended 14:32", so nobody leaves a shelter on stale information), and — when alert feeds are
configured and one has gone silent — since when the alert status is unknown (never "no alert")."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from directory.alerts.sources import Feed, parse_feeds
from directory.alerts.watcher import unknown_since
from directory.config import Settings
from directory.listings import models as m
from directory.listings import reference
from directory.listings.texts import LocalText, texts_for
from directory.listings.views import PlaceRef

#: How long an ended alert stays on the pages of its region.
ENDED_SHOWN_FOR = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class EndedAlert:
    id: uuid.UUID
    title: LocalText
    region: PlaceRef | None
    ended_at: dt.datetime  # UTC
    timezone: str | None  # the region's zone (the directory's for nationwide alerts)


@lru_cache(maxsize=8)
def _feeds(setting: str) -> tuple[Feed, ...]:
    return tuple(parse_feeds(setting))


def feeds(settings: Settings) -> tuple[Feed, ...]:
    """The configured feeds (parsed once per setting value)."""
    return _feeds(settings.alert_feeds) if settings.alert_feeds.strip() else ()


def status_unknown_since(
    session: Session, settings: Settings, *, now: dt.datetime
) -> dt.datetime | None:
    configured = feeds(settings)
    if not configured:
        return None
    return unknown_since(
        session,
        list(configured),
        now=now,
        stale_after=dt.timedelta(seconds=settings.alert_stale_after_seconds),
    )


def recently_ended(
    session: Session,
    *,
    locale: str,
    region_ids: Iterable[uuid.UUID],
    now: dt.datetime,
    timezone: str,
) -> list[EndedAlert]:
    """Alerts of these regions (and nationwide ones) that ended within ENDED_SHOWN_FOR: ended by
    hand or by a feed (archived), or run out (`valid_until` passed). Newest first."""
    regions = list(dict.fromkeys(region_ids))
    since = now - ENDED_SHOWN_FOR
    rows = session.execute(
        select(
            m.Notice.id,
            m.Notice.title,
            m.Notice.source_locale,
            m.Notice.region_id,
            m.Notice.archived_at,
            m.Notice.valid_until,
        )
        .where(
            m.Notice.kind == m.NoticeKind.alert,
            or_(m.Notice.region_id.is_(None), m.Notice.region_id.in_(regions))
            if regions
            else m.Notice.region_id.is_(None),
            or_(
                and_(m.Notice.archived_at > since, m.Notice.archived_at <= now),
                and_(m.Notice.valid_until > since, m.Notice.valid_until <= now),
            ),
        )
        .order_by(m.Notice.id)
    ).all()
    if not rows:
        return []
    titles = texts_for(
        session, entity_type="notice", ids=[r.id for r in rows], fields=["title"], locale=locale
    )
    ref = reference.reference_data(session, locale)
    out = []
    for r in rows:
        ended = min(t for t in (r.archived_at, r.valid_until) if t is not None and t <= now)
        title = titles.get((r.id, "title")) or LocalText(
            r.title, r.source_locale, r.source_locale != locale
        )
        out.append(
            EndedAlert(
                id=r.id,
                title=title,
                region=ref.place_refs.get(r.region_id) if r.region_id else None,
                ended_at=ended,
                timezone=(reference.zone_above(ref.places, r.region_id) if r.region_id else None)
                or timezone,
            )
        )
    out.sort(key=lambda e: e.ended_at, reverse=True)
    return out
