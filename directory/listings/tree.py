"""The place tree (country → region → city) and the category tree: one walk up, one walk down.

Every reader of a tree walks it through `lineage` (up) and `subtree` (down), whatever holds the
records (the per-process reference cache, a dict read for one job, or the session's identity
map), so a loop in the data (a place made its own ancestor) ends every walk the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from directory.listings import models as m

#: No real tree is this deep (country, region, district, city...): a walk stops here anyway.
MAX_DEPTH = 16


def lineage(
    start: uuid.UUID | None, parent_of: Callable[[uuid.UUID], uuid.UUID | None]
) -> list[uuid.UUID]:
    """`start` and everything above it, nearest first (a city, its region, its country).
    `parent_of` returns a record's parent, or None at the top or for an unknown record."""
    out: list[uuid.UUID] = []
    cur = start
    while cur is not None and cur not in out and len(out) < MAX_DEPTH:
        out.append(cur)
        cur = parent_of(cur)
    return out


def subtree(root: uuid.UUID, pairs: Iterable[tuple[uuid.UUID, uuid.UUID | None]]) -> set[uuid.UUID]:
    """`root` and everything below it, from (id, parent_id) pairs (a region and its cities)."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for pid, parent in pairs:
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def parents_in(session: Session) -> Callable[[uuid.UUID], uuid.UUID | None]:
    """`parent_of` through the session's identity map (sees what this transaction changed)."""

    def parent_of(pid: uuid.UUID) -> uuid.UUID | None:
        place = session.get(m.Place, pid)
        return place.parent_id if place is not None else None

    return parent_of


def places_up(session: Session, start: uuid.UUID | None) -> list[m.Place]:
    """The place and every place above it, as ORM objects, nearest first."""
    out = []
    for pid in lineage(start, parents_in(session)):
        place = session.get(m.Place, pid)
        if place is not None:
            out.append(place)
    return out
