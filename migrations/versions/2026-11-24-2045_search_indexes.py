"""Search indexes: FTS5 on SQLite, tsvector GIN + pg_trgm on PostgreSQL, and the word vocabulary.

SQLite: `service_fts`, an FTS5 table over the folded search documents with prefix indexes for
1-3 letters (so a one-letter prefix is an index lookup); its rowid is a stable hash of the service
id, written by `directory.search.index` (no triggers: VACUUM may renumber SQLite's own rowids).
PostgreSQL: a GIN index on to_tsvector('simple', document) (prefix queries `word:*`).
Both: `service_fts_term`, the distinct indexed words, for typo correction ("did you mean"); on
PostgreSQL with a trigram GIN index so that misspelt first letters are found too.

Revision ID: 7c1d5e2a9b40
Revises: 1bd438763cb1
Create Date: 2026-11-24 20:45:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "7c1d5e2a9b40"
down_revision = "1bd438763cb1"
branch_labels = None
depends_on = None

MIN_TERM, MAX_TERM = 4, 64


def _rowid(service_id: str) -> int:
    # Same as directory.search.index.fts_rowid (migrations do not import the package).
    return int.from_bytes(uuid.UUID(service_id).bytes[:8], "big") >> 1


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE service_fts USING fts5("
            "service_id UNINDEXED, document, prefix='1 2 3', tokenize='ascii', detail=none)"
        )
        op.execute("CREATE TABLE service_fts_term (term VARCHAR(64) NOT NULL PRIMARY KEY) WITHOUT ROWID")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute(
            "CREATE INDEX ix_service_search_pg_document_tsv ON service_search "
            "USING gin (to_tsvector('simple'::regconfig, document))"
        )
        op.execute("CREATE TABLE service_fts_term (term VARCHAR(64) NOT NULL PRIMARY KEY)")
        # The operator class lives in the extension's schema, which may not be on search_path.
        trgm_schema = bind.execute(
            sa.text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one()
        op.execute(
            "CREATE INDEX ix_service_search_pg_term_trgm ON service_fts_term "
            f'USING gin (term "{trgm_schema}".gin_trgm_ops)'
        )
    # Documents written before this migration (if any) join the new indexes.
    rows = bind.execute(sa.text("SELECT service_id, document FROM service_search")).all()
    words: set[str] = set()
    for sid, doc in rows:
        words.update(w for w in (doc or "").split() if MIN_TERM <= len(w) <= MAX_TERM and not w.isdigit())
        if bind.dialect.name == "sqlite":
            key = sid if isinstance(sid, str) else sid.hex
            bind.execute(
                sa.text("INSERT INTO service_fts (rowid, service_id, document) VALUES (:r, :s, :d)"),
                {"r": _rowid(key), "s": uuid.UUID(key).hex, "d": doc or ""},
            )
    for word in sorted(words):
        bind.execute(sa.text("INSERT INTO service_fts_term (term) VALUES (:t)"), {"t": word})


def downgrade() -> None:
    bind = op.get_bind()
    op.execute("DROP TABLE IF EXISTS service_fts_term")
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS service_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_service_search_pg_document_tsv")
        # The pg_trgm and unaccent extensions stay: other objects may use them, and they are
        # harmless; dropping an extension needs more rights than the migration should assume.
