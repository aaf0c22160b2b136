"""Text matching on both databases: every query word must match a word of the service's search
document as a prefix ("kyi" finds "kyiv"), through FTS5 on SQLite and a tsvector GIN index on
PostgreSQL; and typo correction against the vocabulary of indexed words (`service_fts_term`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidfuzz.distance import Levenshtein
from sqlalchemy import Select, column, select, table, text
from sqlalchemy.orm import Session

from directory.listings.models import ServiceSearch

#: Words shorter than this are never corrected; longer ones allow 1 edit, from
#: `TWO_EDITS_FROM` letters on 2 edits.
MIN_TYPO_LEN = 4
TWO_EDITS_FROM = 8
MAX_TERM_LEN = 64
_FTS = table("service_fts", column("service_id"))
TERMS = table("service_fts_term", column("term"))


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def fts5_query(terms: Sequence[str]) -> str:
    """FTS5 MATCH text: every term as a prefix. Terms are search keys ([a-z0-9]+), quoted anyway."""
    return " AND ".join(f'"{t}"*' for t in terms)


def tsquery(terms: Sequence[str]) -> str:
    """to_tsquery('simple', ...) text: every term as a prefix."""
    return " & ".join(f"{t}:*" for t in terms)


def text_match_ids(session: Session, terms: Sequence[str]) -> Select[Any]:
    """A subquery of the ids of services whose search document matches every term."""
    if dialect_name(session) == "sqlite":
        return select(_FTS.c.service_id).where(
            text("service_fts MATCH :fts").bindparams(fts=fts5_query(terms))
        )
    # The expression must be spelt as in the index (literal 'simple') for the planner to use it.
    return select(ServiceSearch.service_id).where(
        text(
            "to_tsvector('simple', service_search.document) @@ to_tsquery('simple', :tsq)"
        ).bindparams(tsq=tsquery(terms))
    )


def _allowed_edits(term: str) -> int:
    if len(term) < MIN_TYPO_LEN:
        return 0
    return 2 if len(term) >= TWO_EDITS_FROM else 1


def _known_prefix(session: Session, term: str) -> bool:
    hit = session.execute(
        select(TERMS.c.term).where(TERMS.c.term >= term, TERMS.c.term < term + "{").limit(1)
    ).first()
    return hit is not None


def _candidates(session: Session, term: str) -> list[str]:
    """Indexed words that may be `term` misspelt: those sharing its first letter (a range of the
    primary key), and on PostgreSQL also its trigram neighbours (first-letter typos)."""
    first = term[0]
    stmt = select(TERMS.c.term).where(TERMS.c.term >= first, TERMS.c.term < chr(ord(first) + 1))
    words = set(session.scalars(stmt))
    if dialect_name(session) == "postgresql":
        words.update(
            session.scalars(
                text(
                    "SELECT term FROM service_fts_term WHERE term % :t "
                    "ORDER BY similarity(term, :t) DESC LIMIT 200"
                ).bindparams(t=term)
            )
        )
    return list(words)


def correct_term(session: Session, term: str) -> str | None:
    """The indexed word nearest to `term` within the allowed edits (a typo in the word or in
    the prefix typed so far), or None."""
    edits = _allowed_edits(term)
    if not edits:
        return None
    best: tuple[int, int, str] | None = None
    for word in _candidates(session, term):
        d = min(
            Levenshtein.distance(term, word, score_cutoff=edits),
            Levenshtein.distance(term, word[: len(term)], score_cutoff=edits),
        )
        if d <= edits:
            key = (d, abs(len(word) - len(term)), word)
            if best is None or key < best:
                best = key
    return best[2] if best else None


def typo_corrections(session: Session, terms: Sequence[str]) -> list[str]:
    """`terms` with each word that no indexed word starts with replaced by its nearest indexed
    word (when one is close enough). Unchanged terms come back as they were."""
    out = []
    for term in terms:
        if _known_prefix(session, term):
            out.append(term)
            continue
        out.append(correct_term(session, term) or term)
    return out
