"""Keeps the search index in step with the listings: `service_search.document` (the folded text
a service can be found by), plus on SQLite its FTS5 copy `service_fts`, and the vocabulary of
indexed words `service_fts_term` (typo correction) on both databases.

A document holds, folded by `search_key`: every translation of the service's name, alternate name
and description, its organisation's names, its categories' labels in every locale, the name,
city and street of each non-confidential location, and the names and aliases (all spellings, all
scripts) of each location's city and region. A confidential location contributes only its city
and region: nobody can find it by its street.

Work is set-based: a few IN queries per batch of services, never one query per service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.listings import models as m
from directory.search.keys import search_key
from directory.search.match import MAX_TERM_LEN, MIN_TYPO_LEN, TERMS, dialect_name

BATCH = 2000
SERVICE_FIELDS = ("name", "alternate_name", "description")
ORGANIZATION_FIELDS = ("name", "alternate_name")
LOCATION_FIELDS = ("name", "alternate_name")


def fts_rowid(service_id: uuid.UUID) -> int:
    """A stable 63-bit FTS5 rowid for a service (independent of SQLite's own rowids, which
    VACUUM may renumber). Collisions are astronomically unlikely at directory sizes."""
    return int.from_bytes(service_id.bytes[:8], "big") >> 1


def _translations(
    session: Session, entity_type: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    ids = list(ids)
    out: dict[uuid.UUID, list[str]] = {}
    if not ids:
        return out
    for eid, value in session.execute(
        select(m.Translation.entity_id, m.Translation.value).where(
            m.Translation.entity_type == entity_type, m.Translation.entity_id.in_(ids)
        )
    ):
        out.setdefault(eid, []).append(value)
    return out


class _Reference:
    """Places and categories with every name they go by (small tables, loaded once per run)."""

    def __init__(self, session: Session) -> None:
        places = session.execute(
            select(m.Place.id, m.Place.name, m.Place.aliases).where(m.Place.archived_at.is_(None))
        ).all()
        place_tr = _translations(session, "place", (p.id for p in places))
        self.places = {
            p.id: " ".join([p.name, p.aliases or "", *place_tr.get(p.id, [])]) for p in places
        }
        terms = session.execute(
            select(m.TaxonomyTerm.id, m.TaxonomyTerm.name).where(
                m.TaxonomyTerm.archived_at.is_(None)
            )
        ).all()
        term_tr = _translations(session, "taxonomy_term", (t.id for t in terms))
        self.terms = {t.id: " ".join([t.name, *term_tr.get(t.id, [])]) for t in terms}


def _documents(session: Session, ids: Sequence[uuid.UUID], ref: _Reference) -> dict[uuid.UUID, str]:
    services = session.execute(
        select(
            m.Service.id,
            m.Service.organization_id,
            m.Service.name,
            m.Service.alternate_name,
            m.Service.description,
        ).where(m.Service.id.in_(ids), m.Service.archived_at.is_(None))
    ).all()
    if not services:
        return {}
    parts: dict[uuid.UUID, list[str]] = {
        s.id: [s.name, s.alternate_name or "", s.description or ""] for s in services
    }
    for sid, values in _translations(session, "service", parts).items():
        parts[sid].extend(values)
    # Organisations
    org_ids = {s.organization_id for s in services}
    orgs = {
        o.id: [o.name, o.alternate_name or ""]
        for o in session.execute(
            select(m.Organization.id, m.Organization.name, m.Organization.alternate_name).where(
                m.Organization.id.in_(org_ids)
            )
        )
    }
    for oid, values in _translations(session, "organization", org_ids).items():
        orgs.setdefault(oid, []).extend(values)
    for s in services:
        parts[s.id].extend(orgs.get(s.organization_id, []))
    # Categories
    for sid, term_id in session.execute(
        select(m.Attribute.link_id, m.Attribute.taxonomy_term_id).where(
            m.Attribute.link_entity == "service",
            m.Attribute.link_id.in_(list(parts)),
            m.Attribute.archived_at.is_(None),
        )
    ):
        if sid in parts and term_id in ref.terms:
            parts[sid].append(ref.terms[term_id])
    # Locations: places always; names and addresses unless confidential
    L = m.Location
    locs = session.execute(
        select(
            m.ServiceAtLocation.service_id,
            L.id,
            L.name,
            L.alternate_name,
            L.privacy,
            L.place_id,
            L.region_id,
        )
        .join(L, L.id == m.ServiceAtLocation.location_id)
        .where(
            m.ServiceAtLocation.service_id.in_(list(parts)),
            m.ServiceAtLocation.archived_at.is_(None),
            L.archived_at.is_(None),
        )
    ).all()
    public_locs: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in locs:
        bucket = parts[row.service_id]
        for pid in (row.place_id, row.region_id):
            if pid is not None and pid in ref.places:
                bucket.append(ref.places[pid])
        if m.Privacy(row.privacy) is not m.Privacy.confidential:
            bucket.extend([row.name or "", row.alternate_name or ""])
            public_locs.setdefault(row.id, []).append(row.service_id)
    if public_locs:
        loc_tr = _translations(session, "location", public_locs)
        for lid, values in loc_tr.items():
            for sid in public_locs[lid]:
                parts[sid].extend(values)
        street_ok = {row.id for row in locs if m.Privacy(row.privacy) is m.Privacy.exact}
        for a in session.execute(
            select(
                m.Address.location_id, m.Address.address_1, m.Address.address_2, m.Address.city
            ).where(m.Address.location_id.in_(list(public_locs)), m.Address.archived_at.is_(None))
        ):
            street = [a.address_1, a.address_2 or ""] if a.location_id in street_ok else []
            for sid in public_locs[a.location_id]:
                parts[sid].extend([a.city, *street])
    # Fold, and keep each word once (order kept): matching is by word, not by phrase.
    return {
        sid: " ".join(dict.fromkeys(search_key(" ".join(p for p in values if p)).split()))
        for sid, values in parts.items()
    }


def _write(session: Session, ids: Sequence[uuid.UUID], docs: dict[uuid.UUID, str]) -> None:
    sqlite = dialect_name(session) == "sqlite"
    if ids:
        session.execute(delete(m.ServiceSearch).where(m.ServiceSearch.service_id.in_(ids)))
    if sqlite and ids:
        session.execute(
            text("DELETE FROM service_fts WHERE rowid = :r"),
            [{"r": fts_rowid(i)} for i in ids],
        )
    if not docs:
        return
    now = utcnow()
    session.execute(
        insert(m.ServiceSearch),
        [{"service_id": sid, "document": doc, "updated_at": now} for sid, doc in docs.items()],
    )
    if sqlite:
        session.execute(
            text("INSERT INTO service_fts (rowid, service_id, document) VALUES (:r, :s, :d)"),
            [{"r": fts_rowid(sid), "s": sid.hex, "d": doc} for sid, doc in docs.items()],
        )
    words = {
        w
        for doc in docs.values()
        for w in doc.split()
        if MIN_TYPO_LEN <= len(w) <= MAX_TERM_LEN and not w.isdigit()
    }
    if words:
        verb = "INSERT OR IGNORE INTO" if sqlite else "INSERT INTO"
        tail = "" if sqlite else " ON CONFLICT (term) DO NOTHING"
        session.execute(
            text(f"{verb} service_fts_term (term) VALUES (:t){tail}"),  # noqa: S608 - constant
            [{"t": w} for w in sorted(words)],
        )


def reindex_services(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Rebuild the search documents of these services (archived or missing ones leave the index).
    Call after any change to a service, its organisation, locations, categories or texts."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return
    ref = _Reference(session)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        _write(session, chunk, _documents(session, chunk, ref))
    session.flush()


def services_of_place(session: Session, place_id: uuid.UUID) -> list[uuid.UUID]:
    """Services at a location in this place (to reindex after its names or aliases change)."""
    return list(
        session.scalars(
            select(m.ServiceAtLocation.service_id)
            .join(m.Location, m.Location.id == m.ServiceAtLocation.location_id)
            .where((m.Location.place_id == place_id) | (m.Location.region_id == place_id))
            .distinct()
        )
    )


def reindex_all(session: Session) -> int:
    """Rebuild the whole index from scratch; returns the number of services indexed."""
    sqlite = dialect_name(session) == "sqlite"
    session.execute(delete(m.ServiceSearch))
    session.execute(delete(TERMS))
    if sqlite:
        session.execute(text("DELETE FROM service_fts"))
    ref = _Reference(session)
    ids = list(
        session.scalars(
            select(m.Service.id).where(m.Service.archived_at.is_(None)).order_by(m.Service.id)
        )
    )
    count = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        docs = _documents(session, chunk, ref)
        _write_new(session, docs)
        count += len(docs)
    if sqlite:
        session.execute(text("INSERT INTO service_fts (service_fts) VALUES ('optimize')"))
    session.flush()
    return count


def _write_new(session: Session, docs: dict[uuid.UUID, str]) -> None:
    # Same as _write without the deletes (the index was just emptied).
    if docs:
        _write(session, [], docs)
