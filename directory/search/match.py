"""Text matching on both databases. Every query word must begin a word of the service's search
document ("kyi" finds "kyiv"), and every filter token (category, place, amenity, language, free)
must be among its facets: FTS5 on SQLite, tsvector GIN indexes on PostgreSQL.

Query words of up to 3 letters use the prefix indexes; longer ones are expanded to the indexed
words they begin, through the vocabulary `service_fts_term` (a long FTS5 prefix query that no
prefix index serves is slow). The same vocabulary corrects typos ("did you mean").
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from rapidfuzz.distance import Levenshtein
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    TextClause,
    Uuid,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from directory.listings import refcache

#: Words shorter than this are never corrected; longer ones allow 1 edit, from
#: `TWO_EDITS_FROM` letters on 2 edits.
MIN_TYPO_LEN = 4
TWO_EDITS_FROM = 8
MAX_TERM_LEN = 64
NATIVE_PREFIX_LEN = 3
MAX_EXPANSIONS = 48
#: PostgreSQL: a query expected to match more than this share of the index counts without GIN.
DENSE_SHARE = 0.3
FTS = table("service_fts", column("rowid"), column("service_id"))
PG_FTS = table("service_fts", column("service_id", Uuid()), column("sort_key", BigInteger()))
TERMS = table("service_fts_term", column("term"))
ZONES = table("service_fts_zone", column("name"))
T = TypeVar("T")


def term_token(term_id: uuid.UUID) -> str:
    return "c" + term_id.hex


def place_token(place_id: uuid.UUID) -> str:
    return "p" + place_id.hex


def language_token(code: str) -> str:
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return "l" + "".join(ch for ch in primary if ch.isascii() and ch.isalnum())


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True)
class Match:
    """What the index must match: each query word (with the indexed words it begins, or None
    for a prefix-index query) in the document, and every facet token in the facets."""

    words: tuple[str, ...] = ()
    expansions: tuple[tuple[str, ...] | None, ...] = ()
    facets: tuple[str, ...] = ("all",)

    @property
    def impossible(self) -> bool:
        """Some word begins no indexed word: nothing can match."""
        return any(e == () for e in self.expansions)


def _expand(session: Session, word: str) -> tuple[str, ...] | None:
    if len(word) <= NATIVE_PREFIX_LEN or word.isdigit() or len(word) > MAX_TERM_LEN:
        return None

    def look_up() -> tuple[str, ...] | None:
        found = tuple(
            session.scalars(
                select(TERMS.c.term)
                .where(TERMS.c.term >= word, TERMS.c.term < word + "{")
                .order_by(TERMS.c.term)
                .limit(MAX_EXPANSIONS + 1)
            )
        )
        return None if len(found) > MAX_EXPANSIONS else found

    return remembered(session, ("expand", word), look_up)


def prepare(session: Session, words: Sequence[str], facets: Iterable[str] = ()) -> Match:
    """The Match for folded query `words` and filter `facets` (one vocabulary look-up a word)."""
    return Match(
        words=tuple(words),
        expansions=tuple(_expand(session, w) for w in words),
        facets=("all", *dict.fromkeys(facets)),
    )


def sqlite_match(match: Match) -> str:
    """The FTS5 MATCH expression (words and tokens are [a-z0-9]+; quoted anyway)."""
    doc = [
        "(" + " OR ".join(f'"{w}"' for w in exp) + ")" if exp is not None else f'"{word}"*'
        for word, exp in zip(match.words, match.expansions, strict=True)
    ]
    expr = "facets : (" + " AND ".join(f'"{f}"' for f in match.facets) + ")"
    if doc:
        expr = f"document : ({' AND '.join(doc)}) AND {expr}"
    return expr


def pg_queries(match: Match) -> tuple[str | None, str]:
    """to_tsquery('simple', ...) texts for the document (None: no words) and the facets."""
    doc = [
        "(" + " | ".join(exp) + ")" if exp is not None else f"{word}:*"
        for word, exp in zip(match.words, match.expansions, strict=True)
    ]
    return (" & ".join(doc) or None), " & ".join(match.facets)


def _only_all(match: Match) -> bool:
    return match.facets == ("all",)


def matching_source(
    session: Session, match: Match
) -> tuple[FromClause, Any, Any, list[ColumnElement[bool] | TextClause]]:
    """(FROM, service id column, order column, WHERE) selecting the matching index rows."""
    if dialect_name(session) == "sqlite":
        cond = text("service_fts MATCH :fts").bindparams(fts=sqlite_match(match))
        return FTS, FTS.c.service_id, FTS.c.rowid, [cond]
    # PostgreSQL: `service_fts` holds the stored tsvectors (GIN-indexed) and the sort key.
    doc, facets = pg_queries(match)
    conds: list[ColumnElement[bool] | TextClause] = []
    if doc is not None:
        conds.append(text("service_fts.document @@ to_tsquery('simple', :doc)").bindparams(doc=doc))
    if not _only_all(match):
        conds.append(
            text("service_fts.facets @@ to_tsquery('simple', :facets)").bindparams(facets=facets)
        )
    return PG_FTS, PG_FTS.c.service_id, PG_FTS.c.sort_key, conds


@contextmanager
def index_scans(session: Session, *, in_order: bool = False) -> Iterator[None]:
    """PostgreSQL: plan the enclosed statements without sequential scans of the index table.

    The planner prices `document @@ query` like any cheap operator, so with a few thousand
    expected matches it prefers reading the whole table and testing every row's tsvector to
    the GIN index, which answers the same question exactly from its posting lists (the
    vectors hold no weights or positions, so GIN never asks for a recheck). Costs the planner
    cannot see, the matching SQL states here. `in_order`: bitmap scans off too, so a page of
    a query known to match many listings is read along the order index (its statistics can
    guess a few dozen matches for a phrase that has thousands, and fetch and sort them all).
    The settings are transaction-local and put back afterwards (an error aborts the
    transaction, which puts them back too)."""
    if dialect_name(session) != "postgresql":
        yield
        return
    # (one round trip each way: without parameters psycopg sends both commands at once)
    # (on the connection: planner settings are no write, the data version read stays valid)
    conn = session.connection()
    conn.exec_driver_sql(_HINTS_IN_ORDER if in_order else _HINTS)
    yield
    conn.exec_driver_sql(_RESETS_IN_ORDER if in_order else _RESETS)


_HINTS = "SET LOCAL enable_seqscan = off"
_HINTS_IN_ORDER = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"
_RESETS = "RESET enable_seqscan"
_RESETS_IN_ORDER = "RESET enable_seqscan; RESET enable_bitmapscan"


def _mostly_matching(session: Session, stmt: Select[Any]) -> bool:
    """PostgreSQL: does the planner expect more than DENSE_SHARE of the index to match `stmt`?
    (Its estimates come from the tsvector statistics that ANALYZE keeps: good enough to tell
    a word in most listings from a rarer one.)"""
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    sql = str(compiled)

    def ask() -> bool:
        conn = session.connection()
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, compiled.params).scalar()
        plan: Any = json.loads(raw) if isinstance(raw, str) else raw
        rows = float(plan[0]["Plan"]["Plan Rows"])
        total = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'service_fts'::regclass")
        )
        return total is not None and total > 0 and rows > DENSE_SHARE * float(total)

    # (the estimates change with ANALYZE, which follows writes, not readers)
    params = tuple(sorted((k, str(v)) for k, v in compiled.params.items()))
    return bool(remembered(session, ("dense", sql, params), ask))


#: Answers of the index kept per process (`remembered`).
ANSWERS = 4096
_answers_lock = threading.Lock()
_answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_MISSING = object()


def remembered(session: Session, parts: tuple[Any, ...], build: Callable[[], T]) -> T:
    """`build()`, remembered per database and data version (`listings.refcache.version`): what
    the search index answers (how many listings match, which indexed words a word begins) is
    a function of the data alone, and any write to it gives a new version (`reindex_all`
    included), so a popular search asks the database once, not on every page."""
    key = (refcache.database(session), refcache.version(session), *parts)
    with _answers_lock:
        value = _answers.get(key, _MISSING)
        if value is not _MISSING:
            _answers.move_to_end(key)
            return value  # type: ignore[no-any-return]
    value = build()
    with _answers_lock:
        _answers[key] = value
        while len(_answers) > ANSWERS:
            _answers.popitem(last=False)
    return value


def forget_answers() -> None:
    """Forget every remembered answer (tests that write the index behind the ORM's back)."""
    with _answers_lock:
        _answers.clear()


def count_matches(session: Session, match: Match, *, cap: int) -> int:
    """How many indexed services match (from the index alone), counting at most `cap + 1`:
    past that the exact number helps nobody and costs time on every query.
    On PostgreSQL a query most listings match (a common word, a one-letter prefix) is counted
    by reading rows until `cap + 1` match, which takes a few thousand rows at most; any other
    through the GIN index (`index_scans`): the planner would otherwise often read the whole
    table for a word in a tenth of the listings."""
    if match.impossible:
        return 0
    return remembered(session, ("count", match, cap), lambda: _count(session, match, cap))


def _count(session: Session, match: Match, cap: int) -> int:
    src, _sid, _key, conds = matching_source(session, match)
    hits: Select[Any] = select(literal_column("1")).select_from(src).where(*conds)
    count = select(func.count()).select_from(hits.limit(cap + 1).subquery())
    if conds and dialect_name(session) == "postgresql" and not _mostly_matching(session, hits):
        with index_scans(session):
            return int(session.scalar(count) or 0)
    return int(session.scalar(count) or 0)


def document_matches(match: Match, document: str, facets: str) -> bool:
    """The index's rule, in Python, for one stored document (used to check a few candidates)."""
    have = set(facets.split())
    if not all(f in have for f in match.facets):
        return False
    words = document.split()
    vocab = set(words)
    for word, exp in zip(match.words, match.expansions, strict=True):
        if exp is not None:
            if not any(e in vocab for e in exp):
                return False
        elif not any(w.startswith(word) for w in words):
            return False
    return True


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

    def correct() -> list[str]:
        out = []
        for term in terms:
            if _known_prefix(session, term):
                out.append(term)
                continue
            out.append(correct_term(session, term) or term)
        return out

    return list(remembered(session, ("typo", tuple(terms)), correct))
