"""Notice kinds: `notice.kind` (general | alert | blackout | water | evacuation).

What a notice is about, so that pages can say "Air-raid alert: Dnipro, Kharkiv" in the reader's
language and alert feeds can start and end notices of kind `alert`. Existing notices become
`general`.

Revision ID: 5e0a7c3b9d21
Revises: 41d5c1f26f85
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5e0a7c3b9d21"
down_revision = "41d5c1f26f85"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "general", "alert", "blackout", "water", "evacuation",
                    name="notice_kind", native_enum=False, create_constraint=True, length=32,
                ),
                server_default="general",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notice_notice_kind"), type_="check")
        batch_op.drop_column("kind")
