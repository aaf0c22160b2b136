"""Search indexes: FTS5 on SQLite, tsvector GIN + pg_trgm on PostgreSQL, the word vocabulary.

`service_search` gets `facets` (filter tokens: categories, places, amenities, languages, free)
and `sort_key` (a stable pseudo-random order inside a relevance tier, indexed).
SQLite: `service_fts`, an FTS5 table over the folded documents and facets, with prefix indexes
for 1-3 letters (a one-letter prefix is an index lookup); its rowid is `sort_key`, a stable hash
of the service id written by `directory.search.index` (no triggers: VACUUM may renumber
SQLite's own rowids, and the index writes both tables in one place).
PostgreSQL: `service_fts` (service_id, sort_key, document and facets as stored tsvectors of the
'simple' configuration, kept in the row: STORAGE MAIN) with GIN indexes on both and a btree on
sort_key.
Both: `service_fts_term`, the distinct indexed words (typo correction, prefix expansion), with a
trigram GIN index on PostgreSQL; `service_fts_zone`, the time zones of indexed locations (the
"open now" filter evaluates each zone's local time); and an index on
`schedule.service_at_location_id` (open now, service page), and `location (place_id, privacy)`,
`(region_id, privacy)` (near-me: confidential locations count from their place's centre).

Revision ID: 7c1d5e2a9b40
Revises: 1bd438763cb1
Create Date: 2026-11-24 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7c1d5e2a9b40"
down_revision = "1bd438763cb1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("service_search") as batch:
        batch.add_column(sa.Column("facets", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("sort_key", sa.BigInteger(), server_default="0", nullable=False))
        batch.create_index("ix_service_search_sort_key", ["sort_key"])
    # "Open now" and the service page look schedules up by their service_at_location too.
    op.create_index("ix_schedule_service_at_location_id", "schedule", ["service_at_location_id"])
    # Near-me counts a confidential location from its city's (or region's) centre: these find
    # the confidential locations of a place without reading all of a big city's locations.
    op.create_index("ix_location_place_id_privacy", "location", ["place_id", "privacy"])
    op.create_index("ix_location_region_id_privacy", "location", ["region_id", "privacy"])
    op.execute("CREATE TABLE service_fts_term (term VARCHAR(64) NOT NULL PRIMARY KEY)")
    op.execute("CREATE TABLE service_fts_zone (name VARCHAR(64) NOT NULL PRIMARY KEY)")
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE service_fts USING fts5(service_id UNINDEXED, document, facets,"
            " prefix='1 2 3', tokenize='ascii', detail=column)"
        )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        # The stored tsvectors (recomputing to_tsvector per row would make a common word
        # cost a full scan), written by directory.search.index beside service_search.
        op.execute(
            "CREATE TABLE service_fts ("
            " service_id UUID PRIMARY KEY REFERENCES service (id) ON DELETE CASCADE,"
            " sort_key BIGINT NOT NULL, document TSVECTOR NOT NULL, facets TSVECTOR NOT NULL)"
        )
        # Vectors stay in the row (compressed if need be) rather than in TOAST: testing a row
        # against a query while reading a page in order then costs no extra index look-ups.
        op.execute(
            "ALTER TABLE service_fts ALTER COLUMN document SET STORAGE MAIN,"
            " ALTER COLUMN facets SET STORAGE MAIN"
        )
        op.execute("CREATE INDEX ix_service_search_pg_fts_document ON service_fts USING gin (document)")
        op.execute("CREATE INDEX ix_service_search_pg_fts_facets ON service_fts USING gin (facets)")
        op.execute("CREATE INDEX ix_service_search_pg_fts_sort_key ON service_fts (sort_key)")
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
    # Documents written before this revision have no facets: empty them, so that the next
    # `aid-directory` reindex (the demo loader and the generator run one) rebuilds them.
    op.execute("DELETE FROM service_search")


def downgrade() -> None:
    # (pg_trgm and unaccent stay: other objects may use them, and dropping an extension needs
    # more rights than a migration should assume.)
    op.execute("DROP TABLE IF EXISTS service_fts_term")
    op.execute("DROP TABLE IF EXISTS service_fts_zone")
    op.execute("DROP TABLE IF EXISTS service_fts")
    op.drop_index("ix_schedule_service_at_location_id", table_name="schedule")
    op.drop_index("ix_location_region_id_privacy", table_name="location")
    op.drop_index("ix_location_place_id_privacy", table_name="location")
    with op.batch_alter_table("service_search") as batch:
        batch.drop_index("ix_service_search_sort_key")
        batch.drop_column("sort_key")
        batch.drop_column("facets")
