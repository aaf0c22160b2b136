"""Counting a search's matches (capped) and ordering a page by relevance in tiers: open and
recently checked listings first, then stale ones, then temporarily closed or full ones."""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import nullcontext

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.hours_sql import temporary_now
from directory.search.filters import SearchQuery, base_select
from directory.search.match import count_matches, index_scans

#: Counting stops here (the reader sees "more than 1,000"): counting every listing a common
#: word or a one-letter prefix matches would cost more than finding the page.
COUNT_CAP = 1000
INDEX_COUNT_CAP = COUNT_CAP
#: With "open now" (evaluated listing by listing) counting stops here ("more than 200").
OPEN_NOW_COUNT_CAP = 200


def count_results(session: Session, q: SearchQuery) -> tuple[int, bool]:
    """(total, exact). The index counts up to INDEX_COUNT_CAP; with "open now", which is
    evaluated listing by listing, counting stops at OPEN_NOW_COUNT_CAP (either way past the cap
    the reader sees "more than ...")."""
    if q.impossible:
        return 0, True
    if not q.dynamic:
        n = count_matches(session, q.match, cap=INDEX_COUNT_CAP)
        return min(n, INDEX_COUNT_CAP), n <= INDEX_COUNT_CAP
    stmt, _key = base_select(session, q)
    cap = OPEN_NOW_COUNT_CAP
    with index_scans(session):
        n = int(
            session.scalar(select(func.count()).select_from(stmt.limit(cap + 1).subquery())) or 0
        )
    return min(n, cap), n <= cap


def relevance_page(
    session: Session,
    q: SearchQuery,
    now: dt.datetime,
    stale_after_days: int,
    offset: int,
    limit: int,
    dense: bool,
    *,
    alert_first: bool = False,
) -> list[uuid.UUID]:
    """Open listings first, then stale ones, then temporarily closed or full ones; a stable
    order inside each tier. One statement. With many matches (`dense`) each tier is read in
    index order and stops at the page's end, so a word found in most listings costs no more
    than a rare one; with fewer, the matches are fetched through the text index and sorted once
    (`key + 0` keeps PostgreSQL from walking the order index past thousands of misses)."""
    stmt, key = base_select(session, q)
    cutoff = now - dt.timedelta(days=stale_after_days)
    temporary = temporary_now(now)
    stale = or_(m.Service.assured_date.is_(None), m.Service.assured_date < cutoff)
    tiers: tuple[ColumnElement[bool], ...] = (
        and_(~temporary, ~stale),
        and_(~temporary, stale),
        temporary,
    )
    if alert_first:  # the same tiers, first among the services open during alerts
        during = m.Service.open_during_alert.is_(True)
        tiers = tuple(and_(during, t) for t in tiers) + tuple(and_(~during, t) for t in tiers)
    need = offset + limit
    if not dense:
        tier = case(*((t, i) for i, t in enumerate(tiers[:-1])), else_=len(tiers) - 1)
        with index_scans(session):
            return list(session.scalars(stmt.order_by(tier, key + 0).offset(offset).limit(limit)))
    # Tier by tier, each in index order, only as far as the page needs: the first tier (open,
    # recently checked: most listings) nearly always fills it, and reading the sparse later
    # tiers in index order would mean testing thousands of rows to find a few.
    ids: list[uuid.UUID] = []
    # (not with "open now": its schedule look-ups need bitmap scans, one OR of three indexes)
    with index_scans(session, in_order=True) if not q.dynamic else nullcontext():
        for cond in tiers:
            ids += session.scalars(stmt.where(cond).order_by(key).limit(need - len(ids)))
            if len(ids) >= need:
                break
    return ids[offset:need]
