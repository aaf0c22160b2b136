"""`/hsds/changes.atom?region=CODE`: an Atom feed (RFC 4287) of the latest changes of the
directory, or of one region's places, for partners who prefer a feed reader to a sync job.

One entry per service that changed (itself, or a place it is at: status, capacity, hours...),
newest first, at most `LIMIT`: its name, its HSDS status (or "removed" for an archived service),
a link to the public page and one to its HSDS record (`/hsds/services/{id}`). Nothing about
where a place is: the region names the feed, and a confidential place is only its region.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from directory.exchange.records import jsonable
from directory.listings import models as m

LIMIT = 100
ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def region_of(session: Session, code: str) -> m.Place | None:
    """The region (or country, or city) named by its code or id."""
    P = m.Place
    cond = P.code == code.strip()[:40]
    with contextlib.suppress(ValueError):
        cond = or_(cond, P.id == uuid.UUID(code.strip()))
    return session.scalar(select(P).where(cond, P.archived_at.is_(None)).limit(1))


def _places_within(session: Session, root: uuid.UUID) -> set[uuid.UUID]:
    """`root` and every place below it (the gazetteer is small and shallow)."""
    rows = session.execute(select(m.Place.id, m.Place.parent_id)).all()
    children: dict[Any, list[Any]] = {}
    for pid, parent in rows:
        children.setdefault(parent, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def changes(session: Session, region: m.Place | None, *, limit: int = LIMIT) -> list[Any]:
    """(id, name, status, archived_at, changed) of the services that changed last, newest
    first; `changed` is the later of the service's and its places' last writes."""
    S, SAL, L = m.Service, m.ServiceAtLocation, m.Location
    located = (
        select(SAL.service_id.label("sid"), func.max(L.updated_at).label("at"))
        .join(L, L.id == SAL.location_id)
        .where(SAL.archived_at.is_(None))
    )
    if region is not None:
        within = list(_places_within(session, region.id))
        located = located.where(or_(L.region_id.in_(within), L.place_id.in_(within)))
    sub = located.group_by(SAL.service_id).subquery()
    changed = (
        func.max(S.updated_at, sub.c.at)
        if _sqlite(session)
        else func.greatest(S.updated_at, sub.c.at)
    )
    stmt = (
        select(S.id, S.name, S.status, S.archived_at, changed.label("changed"))
        .join(sub, sub.c.sid == S.id)
        .order_by(changed.desc(), S.id)
        .limit(limit)
    )
    return list(session.execute(stmt).all())


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _stamp(value: Any) -> str:
    if isinstance(value, str):  # SQLite's max() of two timestamps comes back as text
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(jsonable(value))


def atom(rows: list[Any], *, base: str, region: m.Place | None, self_url: str) -> bytes:
    feed = Element("feed", xmlns=ATOM)
    where = f" — {region.name}" if region is not None else ""
    SubElement(feed, "title").text = f"Changes to the aid directory{where}"
    key = f"region:{region.id}" if region is not None else "all"
    SubElement(feed, "id").text = f"{base}/hsds/changes.atom#{key}"
    SubElement(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    SubElement(feed, "link", rel="alternate", href=base + "/hsds/services", type="application/json")
    SubElement(feed, "updated").text = _stamp(rows[0].changed) if rows else "1970-01-01T00:00:00Z"
    author = SubElement(feed, "author")
    SubElement(author, "name").text = "aid-directory"
    for row in rows:
        stamp = _stamp(row.changed)
        removed = row.archived_at is not None
        status = "removed" if removed else str(jsonable(row.status))
        entry = SubElement(feed, "entry")
        SubElement(entry, "title").text = f"{row.name} ({status})"
        SubElement(entry, "id").text = f"urn:uuid:{row.id}#{stamp}"
        SubElement(entry, "updated").text = stamp
        if not removed:
            SubElement(
                entry,
                "link",
                rel="alternate",
                href=f"{base}/en/services/{row.id}",
                type="text/html",
            )
        SubElement(
            entry,
            "link",
            rel="related",
            href=f"{base}/hsds/services/{row.id}",
            type="application/json",
        )
        SubElement(entry, "category", term=status)
        SubElement(entry, "summary").text = (
            f"{row.name}: removed from the directory" if removed else f"{row.name}: {status}"
        )
    body = tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()
