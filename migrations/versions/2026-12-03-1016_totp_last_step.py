"""`account.totp_last_step`: each TOTP code is accepted once.

The last time step accepted for an account (at enrolment and at each sign-in); a code is
accepted only for a later step, so neither the enrolment code nor a code seen over someone's
shoulder signs in a second time. NULL = no code used yet.

Revision ID: 8e4a2f6b1c37
Revises: 5b0e7c3d9a21
Create Date: 2026-12-03 10:16:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8e4a2f6b1c37"
down_revision = "5b0e7c3d9a21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
