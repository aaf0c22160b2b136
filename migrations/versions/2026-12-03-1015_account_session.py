"""Web sessions as rows (`account_session`): signing out ends a session on the server.

Before, the session cookie was only signed: a copy kept from before sign-out went on working
until it expired (12 hours). Each signed-in cookie now names a row; sign-out, a password change
and disabling the account delete rows. Cookies issued before this revision name no row and are
treated as signed out (people sign in once more).

Revision ID: 5b0e7c3d9a21
Revises: df1d5642e6ff
Create Date: 2026-12-03 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5b0e7c3d9a21"
down_revision = "df1d5642e6ff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_account_session_account_id_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_session")),
    )
    with op.batch_alter_table("account_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_session_account_id"), ["account_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_account_session_expires_at"), ["expires_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_account_session_account_id"))
    op.drop_table("account_session")
