"""The per-process card cache: the rows one search card is built from (`loading.LoadedRows`
cut down to one service), kept between requests so that the services a popular search shows
are read from the database once per data version instead of once per page.

Key = (database, `generation.data_version`, locale, service id), as `listings.refcache`: any
write to public data gives the directory a new version, so an entry read before the write is
never looked up again; the whole cache is dropped when a new version is first seen. Values are
rows, not cards: everything that depends on the time (open now, stale, temporarily closed) or on
the request (distance, the location a filter matched) is still worked out per request, and the
privacy redaction (`listings.privacy`) still runs on every card. Nothing here is rendered, and
nothing reaches a response that the uncached path would not have shown.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from directory.listings import refcache

#: Services kept per process (a service's rows take a few kilobytes).
MAX_SERVICES = 4000

_lock = threading.Lock()
_generation: list[Hashable] = [None]
_entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()


def _scope(session: Session) -> tuple[Hashable, ...]:
    return (refcache.database(session), refcache.version(session))


def get_many(
    session: Session, locale: str, ids: Sequence[uuid.UUID]
) -> tuple[tuple[Hashable, ...], dict[uuid.UUID, Any]]:
    """(scope, {service id: entry}) for the ids cached at the session's data version; pass the
    scope back to `put_many` (the version the rows were read under)."""
    scope = _scope(session)
    found: dict[uuid.UUID, Any] = {}
    with _lock:
        if _generation[0] != scope:
            return scope, found
        for sid in ids:
            key = (locale, sid)
            value = _entries.get(key)
            if value is not None:
                _entries.move_to_end(key)
                found[sid] = value
    return scope, found


def put_many(
    scope: tuple[Hashable, ...], locale: str, items: Iterable[tuple[uuid.UUID, Any]]
) -> None:
    """Keep entries read under `scope` (a newer version replaces the whole cache)."""
    with _lock:
        if _generation[0] != scope:
            _entries.clear()
            _generation[0] = scope
        for sid, value in items:
            _entries[(locale, sid)] = value
        while len(_entries) > MAX_SERVICES:
            _entries.popitem(last=False)


def clear() -> None:
    """Forget every entry (tests that write with raw SQL behind the ORM's back)."""
    with _lock:
        _entries.clear()
        _generation[0] = None
