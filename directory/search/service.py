"""`search_services`: the one search of the public directory (pages, JSON API, map). Resolves
the query, counts, picks a page (by relevance tiers or by distance) and builds its cards."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from sqlalchemy.orm import Session

from directory.listings.cards import build_cards
from directory.search.filters import SearchQuery, facet_tokens, location_filters, open_now_filter
from directory.search.keys import search_terms
from directory.search.match import dialect_name, prepare, remembered, typo_corrections
from directory.search.near import distance_page
from directory.search.params import (
    MAX_PER_PAGE,
    SearchParams,
    SearchResults,
    decode_cursor,
    encode_cursor,
)
from directory.search.ranking import count_results, relevance_page

#: From this many matches a page is read in index order (see `relevance_page`). FTS5 hands
#: its matches over in that order, so SQLite does so early; PostgreSQL walks the order index
#: testing each row's vector, worth it once roughly one row in 250 matches.
DENSE_MATCHES = 400
DENSE_MATCHES_SQLITE = 50


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def search_services(
    session: Session, params: SearchParams, *, stale_after_days: int
) -> SearchResults:
    """The services matching `params`: one page of cards, the total and a typo suggestion."""
    now = _now(params.now)
    per_page = max(1, min(MAX_PER_PAGE, params.per_page))
    page = max(1, params.page)
    offset = decode_cursor(params.cursor) if params.cursor else (page - 1) * per_page
    page = offset // per_page + 1
    words = search_terms(params.q)[:12]
    facets = facet_tokens(session, params)
    dynamic = (open_now_filter(session, now),) if params.open_now else ()
    query = SearchQuery(prepare(session, words, facets or ()), dynamic, facets is None)
    query = replace(query, impossible=query.impossible or query.match.impossible)
    total, exact = count_results(session, query)
    suggestion: str | None = None
    corrected = False
    if words and total == 0 and facets is not None:
        fixed = typo_corrections(session, words)
        if fixed != words:
            retry = SearchQuery(prepare(session, fixed, facets), dynamic, False)
            retry = replace(retry, impossible=retry.match.impossible)
            total, exact = count_results(session, retry)
            if total:
                query, suggestion, corrected = retry, " ".join(fixed), True
    if total == 0 or (exact and offset >= total):
        ids: list[uuid.UUID] = []
    elif params.sort == "distance" and params.near is not None:
        near, q_ = params.near, query

        def by_distance() -> tuple[uuid.UUID, ...]:
            return tuple(
                distance_page(
                    session,
                    q_,
                    near,
                    offset,
                    per_page,
                    total,
                    exact,
                    alert_first=params.alert_first,
                )
            )

        # Without "open now" the page is a function of the data alone: remembered per data
        # version (near-me reads thousands of points; a popular position asks once).
        key = ("distance", query, near, offset, per_page, total, exact, params.alert_first)
        ids = list(by_distance() if query.dynamic else remembered(session, key, by_distance))
    else:
        dense_from = DENSE_MATCHES_SQLITE if dialect_name(session) == "sqlite" else DENSE_MATCHES
        # (with "open now" an exact total means few listings pass it: reading the tiers one
        # after another would test the others up to three times, one sorted pass tests each once)
        dense = not exact or (total >= dense_from and not query.dynamic)
        ids = relevance_page(
            session,
            query,
            now,
            stale_after_days,
            offset,
            per_page,
            dense,
            alert_first=params.alert_first,
        )
    loc_conds = location_filters(session, params, now) if ids else []
    cards = build_cards(
        session, ids, params=params, now=now, stale_after_days=stale_after_days, loc=loc_conds
    )
    next_offset = offset + per_page
    more = next_offset < total or (not exact and len(ids) == per_page)
    return SearchResults(
        items=cards,
        total=total,
        page=page,
        per_page=per_page,
        next_cursor=encode_cursor(next_offset) if more else None,
        suggestion=suggestion,
        corrected=corrected,
        total_exact=exact,
    )
