"""Keeps the search index in step with the listings: `service_search.document` (the folded text
a service can be found by), plus on SQLite its FTS5 copy `service_fts`, and the vocabulary of
indexed words `service_fts_term` (typo correction) on both databases.

A document holds, folded by `search_key`: every translation of the service's name, alternate name
and description, its organisation's names, its categories' labels in every locale, the name,
city and street of each non-confidential location, and the names and aliases (all spellings, all
scripts) of each location's city and region. A confidential location contributes only its city
and region: nobody can find it by its street.

Beside the words, each service gets filter tokens (`facets`): its categories and their parent
categories, its places and every place above them, its amenities, languages and "free", plus
`all`; the static filters of a search are then index lookups too. Only services a reader may
find are indexed (not archived, not inactive or defunct).

Work is set-based: a few IN queries per batch of services, never one query per service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.listings import models as m
from directory.listings.generation import bump
from directory.listings.tree import lineage
from directory.listings.visibility import HIDDEN_STATUSES
from directory.search.amenities import AMENITY_FILTERS
from directory.search.keys import search_key_cached
from directory.search.match import (
    MAX_TERM_LEN,
    MIN_TYPO_LEN,
    PG_FTS,
    TERMS,
    ZONES,
    dialect_name,
    language_token,
    place_token,
    term_token,
)

#: Location flags → facet token (a service has it when any of its locations has the flag).
AMENITY_TOKENS = {a.column: a.token for a in AMENITY_FILTERS}

BATCH = 2000
SERVICE_FIELDS = ("name", "alternate_name", "description")
ORGANIZATION_FIELDS = ("name", "alternate_name")
LOCATION_FIELDS = ("name", "alternate_name")


def fts_rowid(service_id: uuid.UUID) -> int:
    """The service's `sort_key` and FTS5 rowid: a stable 63-bit hash of its id (independent of
    SQLite's own rowids, which VACUUM may renumber; collisions are astronomically unlikely)."""
    return int.from_bytes(service_id.bytes[:8], "big") >> 1


def _read(session: Session, stmt: Any) -> Any:
    """A SELECT of columns run as a Core statement on the session's connection: the ORM's
    row loading of the same columns (no entities, nothing for the identity map) cost a third of
    a reindex's Python. (Sessions that autoflush are flushed when a reindex starts.)"""
    return session.connection().execute(stmt)


def _translations(
    session: Session, entity_type: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    ids = list(ids)
    out: dict[uuid.UUID, list[str]] = {}
    if not ids:
        return out
    for eid, value in _read(
        session,
        select(m.Translation.entity_id, m.Translation.value).where(
            m.Translation.entity_type == entity_type, m.Translation.entity_id.in_(ids)
        ),
    ):
        out.setdefault(eid, []).append(value)
    return out


class _Reference:
    """Places and categories with every name they go by (small tables, loaded once per run)."""

    def __init__(self, session: Session) -> None:
        places = _read(
            session,
            select(m.Place.id, m.Place.name, m.Place.aliases).where(m.Place.archived_at.is_(None)),
        ).all()
        place_tr = _translations(session, "place", (p.id for p in places))
        self.places = {
            p.id: " ".join([p.name, p.aliases or "", *place_tr.get(p.id, [])]) for p in places
        }
        place_parent = {r[0]: r[1] for r in _read(session, select(m.Place.id, m.Place.parent_id))}
        self.place_up = {pid: lineage(pid, place_parent.get) for pid in place_parent}
        terms = _read(
            session,
            select(m.TaxonomyTerm.id, m.TaxonomyTerm.name).where(
                m.TaxonomyTerm.archived_at.is_(None)
            ),
        ).all()
        term_tr = _translations(session, "taxonomy_term", (t.id for t in terms))
        self.terms = {t.id: " ".join([t.name, *term_tr.get(t.id, [])]) for t in terms}
        term_parent = {
            r[0]: r[1] for r in _read(session, select(m.TaxonomyTerm.id, m.TaxonomyTerm.parent_id))
        }
        self.term_up = {tid: lineage(tid, term_parent.get) for tid in term_parent}


@dataclass
class _Doc:
    words: list[str] = field(default_factory=list)
    facets: list[str] = field(default_factory=lambda: ["all"])
    zones: set[str] = field(default_factory=set)


def _documents(
    session: Session, ids: Sequence[uuid.UUID], ref: _Reference
) -> dict[uuid.UUID, _Doc]:
    services = _read(
        session,
        select(
            m.Service.id,
            m.Service.organization_id,
            m.Service.name,
            m.Service.alternate_name,
            m.Service.description,
            m.Service.free_of_charge,
            m.Service.status,
        ).where(
            m.Service.id.in_(ids),
            m.Service.archived_at.is_(None),
            m.Service.status.notin_(HIDDEN_STATUSES),
        ),
    ).all()
    docs: dict[uuid.UUID, _Doc] = {}
    # "Free places" never lists a full service (the write path keeps its places at 0 anyway).
    full = {s.id for s in services if s.status == m.ServiceStatus.full}
    for s in services:
        doc = docs[s.id] = _Doc([s.name, s.alternate_name or "", s.description or ""])
        if s.free_of_charge:
            doc.facets.append("free")
    if not docs:
        return {}
    sids = list(docs)
    for sid, values in _translations(session, "service", sids).items():
        docs[sid].words.extend(values)
    # Organisations
    org_ids = {s.organization_id for s in services}
    orgs = {
        o.id: [o.name, o.alternate_name or ""]
        for o in _read(
            session,
            select(m.Organization.id, m.Organization.name, m.Organization.alternate_name).where(
                m.Organization.id.in_(org_ids)
            ),
        )
    }
    for oid, values in _translations(session, "organization", org_ids).items():
        orgs.setdefault(oid, []).extend(values)
    for s in services:
        docs[s.id].words.extend(orgs.get(s.organization_id, []))
    # Categories (a sub-category also puts the service in its parents, for the filter)
    for sid, term_id in _read(
        session,
        select(m.Attribute.link_id, m.Attribute.taxonomy_term_id).where(
            m.Attribute.link_entity == "service",
            m.Attribute.link_id.in_(sids),
            m.Attribute.archived_at.is_(None),
        ),
    ):
        if sid in docs and term_id in ref.terms:
            docs[sid].words.append(ref.terms[term_id])
            docs[sid].facets.extend(term_token(t) for t in ref.term_up.get(term_id, [term_id]))
    # Languages spoken
    for lang_sid, code in _read(
        session,
        select(m.Language.service_id, m.Language.code).where(
            m.Language.service_id.in_(sids), m.Language.archived_at.is_(None)
        ),
    ):
        if lang_sid in docs and code:
            docs[lang_sid].facets.append(language_token(code))
    # Locations: places and amenities always; names and addresses unless confidential
    L = m.Location
    locs = _read(
        session,
        select(
            m.ServiceAtLocation.service_id,
            L.id,
            L.name,
            L.alternate_name,
            L.privacy,
            L.place_id,
            L.region_id,
            L.timezone,
            L.capacity_available,
            *(getattr(L, col) for col in AMENITY_TOKENS),
        )
        .join(L, L.id == m.ServiceAtLocation.location_id)
        .where(
            m.ServiceAtLocation.service_id.in_(sids),
            m.ServiceAtLocation.archived_at.is_(None),
            L.archived_at.is_(None),
        ),
    ).all()
    public_locs: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in locs:
        doc = docs[row.service_id]
        doc.zones.add(row.timezone)
        for pid in (row.place_id, row.region_id):
            if pid is not None and pid in ref.places:
                doc.words.append(ref.places[pid])
                doc.facets.extend(place_token(p) for p in ref.place_up.get(pid, [pid]))
        doc.facets.extend(tok for col, tok in AMENITY_TOKENS.items() if getattr(row, col))
        if row.capacity_available and row.service_id not in full:
            doc.facets.append("capacity")
        if m.Privacy(row.privacy) is not m.Privacy.confidential:
            doc.words.extend([row.name or "", row.alternate_name or ""])
            public_locs.setdefault(row.id, []).append(row.service_id)
    if public_locs:
        for lid, values in _translations(session, "location", public_locs).items():
            for sid in public_locs[lid]:
                docs[sid].words.extend(values)
        street_ok = {row.id for row in locs if m.Privacy(row.privacy) is m.Privacy.exact}
        for a in _read(
            session,
            select(
                m.Address.location_id, m.Address.address_1, m.Address.address_2, m.Address.city
            ).where(m.Address.location_id.in_(list(public_locs)), m.Address.archived_at.is_(None)),
        ):
            street = [a.address_1, a.address_2 or ""] if a.location_id in street_ok else []
            for sid in public_locs[a.location_id]:
                docs[sid].words.extend([a.city, *street])
    return docs


def _fold(doc: _Doc, memo: dict[str, list[str]] | None = None) -> tuple[str, str]:
    """(document, facets) as stored: folded words and tokens, each once (order kept).

    `memo`: texts folded so far in this batch of documents, by text. The same texts come back
    in many documents (a place's names and aliases in every script, a category's labels in
    every locale, an organisation's name, a city): each is folded once per batch."""
    if memo is None:
        memo = {}
    words: list[str] = []
    for part in doc.words:
        if not part:
            continue
        folded = memo.get(part)
        if folded is None:
            folded = memo[part] = _folded_words(part)
        words += folded
    # each word once, first occurrence first: one dict for the whole document
    return " ".join(dict.fromkeys(words)), " ".join(dict.fromkeys(doc.facets))


def _folded_words(part: str) -> list[str]:
    """`search_key(part).split()`. Texts in other scripts are folded word by word through the
    cache (transliteration is per character and whitespace separates words either way), so a
    word repeated across thousands of documents (towns, streets, common words) is folded once."""
    if part.isascii():  # lowercasing and one regular expression: cheap without a cache
        return search_key_cached(part).split()
    return [w for word in part.split() for w in search_key_cached(word).split()]


def _write(session: Session, ids: Sequence[uuid.UUID], docs: dict[uuid.UUID, _Doc]) -> None:
    sqlite = dialect_name(session) == "sqlite"
    if ids:
        if sqlite:
            session.execute(
                text("DELETE FROM service_fts WHERE rowid = :r"),
                [{"r": fts_rowid(i)} for i in ids],
            )
        else:
            session.execute(delete(PG_FTS).where(PG_FTS.c.service_id.in_(ids)))
        session.execute(delete(m.ServiceSearch).where(m.ServiceSearch.service_id.in_(ids)))
    if not docs:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = []
    memo: dict[str, list[str]] = {}
    for sid, doc in docs.items():
        document, facets = _fold(doc, memo)
        rows.append(
            {
                "service_id": sid,
                "document": document,
                "facets": facets,
                "sort_key": fts_rowid(sid),
                "updated_at": now,
            }
        )
    # Core executemany: the ORM's bulk insert of the same rows costs more than the database
    table: Any = m.ServiceSearch.__table__
    session.execute(insert(table), rows)
    if not sqlite:
        # The stored tsvectors, computed by the database in one statement. `strip` drops the
        # word positions (matching never uses them): a vector then stays in its table row
        # instead of TOAST, so testing a row against a query costs no extra reads.
        session.execute(
            text(
                "INSERT INTO service_fts (service_id, sort_key, document, facets)"
                " SELECT service_id, sort_key, strip(to_tsvector('simple', document)),"
                " strip(to_tsvector('simple', facets)) FROM service_search"
                " WHERE service_id = ANY(:ids)"
            ),
            {"ids": list(docs)},
        )
    if sqlite:
        session.execute(
            text(
                "INSERT INTO service_fts (rowid, service_id, document, facets)"
                " VALUES (:r, :s, :d, :f)"
            ),
            [
                {"r": r["sort_key"], "s": r["service_id"].hex, "d": r["document"], "f": r["facets"]}
                for r in rows
            ],
        )
    words = {
        w
        for r in rows
        for w in r["document"].split()
        if MIN_TYPO_LEN <= len(w) <= MAX_TERM_LEN and not w.isdigit()
    }
    zones = {z for doc in docs.values() for z in doc.zones if z}
    verb = "INSERT OR IGNORE INTO" if sqlite else "INSERT INTO"
    for table, column, values in (
        ("service_fts_term", "term", words),
        ("service_fts_zone", "name", zones),
    ):
        if values:
            tail = "" if sqlite else f" ON CONFLICT ({column}) DO NOTHING"
            session.execute(
                text(f"{verb} {table} ({column}) VALUES (:v){tail}"),  # noqa: S608 - constants
                [{"v": v} for v in sorted(values)],
            )


def reindex_services(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Rebuild the search entries of these services; archived, inactive, defunct or missing ones
    leave the index. Call after any change to a service, its organisation, locations, phones,
    categories, languages or texts (a place's names or aliases: every service located there, or
    `reindex_all`)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return
    if session.autoflush:  # what the ORM's own reads would have flushed first
        session.flush()
    ref = _Reference(session)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        _write(session, chunk, _documents(session, chunk, ref))
    # Core statements: a new data version for readers (what they remember of the index,
    # `match.remembered`, is keyed on it; an ORM write in the same transaction already gave one,
    # but a reindex on its own — deferred, or of what a bulk writer wrote — would not)
    bump(session)
    session.flush()


def reindex_all(session: Session) -> int:
    """Rebuild the whole index from scratch; returns the number of services indexed."""
    sqlite = dialect_name(session) == "sqlite"
    if session.autoflush:  # what the ORM's own reads would have flushed first
        session.flush()
    session.execute(text("DELETE FROM service_fts"))
    session.execute(delete(m.ServiceSearch))
    session.execute(delete(TERMS))
    session.execute(delete(ZONES))
    ref = _Reference(session)
    ids = list(
        session.scalars(
            select(m.Service.id).where(m.Service.archived_at.is_(None)).order_by(m.Service.id)
        )
    )
    count = 0
    for start in range(0, len(ids), BATCH):
        docs = _documents(session, ids[start : start + BATCH], ref)
        _write(session, [], docs)
        count += len(docs)
    if sqlite:
        session.execute(text("INSERT INTO service_fts (service_fts) VALUES ('optimize')"))
    else:
        session.execute(text("ANALYZE service_fts"))
    # Core statements: give readers a new data version ourselves (what they remember of the
    # index, `match.remembered`, is keyed on it)
    bump(session)
    session.flush()
    return count
