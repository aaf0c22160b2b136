"""A small per-process cache for rarely-changing reference data (the gazetteer, the category tree,
notices), keyed on the data version so that it can never serve a stale answer.

Key = (database, `generation.data_version`, name, *parts). Any write to public data gives the
directory a new version (`directory.listings.generation`), so an entry built before the write is
simply never looked up again (and falls out of the LRU). Anything time-dependent must not be
stored as a result: store the data and evaluate `now` per call.

The version is read once per transaction and remembered in `session.info` until the session
flushes, executes anything but a SELECT (e.g. `generation.bump`), holds pending changes (they are
flushed first), or its transaction ends, so a page that uses several cached lookups pays one
primary-key read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from directory.listings.generation import data_version

T = TypeVar("T")
MAX_ENTRIES = 64
_MEMO = "_refcache_version"

_lock = threading.Lock()
_entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()


def database(session: Session) -> tuple[int, str]:
    engine = session.get_bind().engine
    return id(engine), engine.url.render_as_string(hide_password=True)


def version(session: Session) -> str:
    """`data_version(session)`, read at most once per transaction (see the module docstring)."""
    memo = session.info.get(_MEMO)
    pending = bool(session.new or session.dirty or session.deleted)
    if memo is None or pending:
        if pending:
            # written first (the app's sessions do not autoflush), so that they get their new
            # version before it is read
            session.flush()
        memo = session.info[_MEMO] = data_version(session)
    return str(memo)


def cached(session: Session, name: str, parts: tuple[Hashable, ...], build: Callable[[], T]) -> T:
    """The value of `build()` for this database, data version, `name` and `parts`."""
    key = (database(session), version(session), name, *parts)
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            value: T = _entries[key]
            return value
    value = build()  # outside the lock: two threads may build the same entry, both correct
    with _lock:
        _entries[key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry (tests that write with raw SQL behind the ORM's back)."""
    with _lock:
        _entries.clear()


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


event.listen(Session, "after_flush", _forget)
event.listen(Session, "after_begin", _forget)


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "do_orm_execute")
def _statement(state: Any) -> None:
    if not state.is_select:
        state.session.info.pop(_MEMO, None)
