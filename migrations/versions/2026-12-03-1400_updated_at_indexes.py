"""Indexes on `updated_at` of every table a service's HSDS record nests: the HSDS API's
`modified_after` (an incremental sync) asks each of them what changed after a time, which
without them scanned every table in full (2 s at 100,000 services).

Revision ID: 6c1d2e3f4a58
Revises: 5e0b7a3c9d21
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from alembic import op

revision = "6c1d2e3f4a58"
down_revision = "5e0b7a3c9d21"
branch_labels = None
depends_on = None

#: As `directory.listings.models.SYNC_TABLES` (copied: a migration must not change with the code).
TABLES = (
    "organization", "service", "location", "service_at_location", "address", "phone",
    "schedule", "schedule_exception", "language", "accessibility", "required_document",
    "attribute", "translation",
)  # fmt: skip


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
