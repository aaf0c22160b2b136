"""Change request groups: `change_request.group_id` (nullable, indexed).

A new listing (organisation, service, place, address, phones, hours ...) is proposed as a group
of create requests that refer to each other; moderators review, approve or reject the group as
one unit. Existing rows stay NULL (changes on their own).

Revision ID: 41d5c1f26f85
Revises: 7c1d5e2a9b40
Create Date: 2026-11-24 23:16:33
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "41d5c1f26f85"
down_revision = "7c1d5e2a9b40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_change_request_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_request_group_id"))
        batch_op.drop_column("group_id")
