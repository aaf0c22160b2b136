"""Seed the `setting` rows every request may need: the data version and the pepper of the
authentication-failure keys.

Made on first use before, inside a request's transaction: on a fresh PostgreSQL database the
first burst of requests all inserted the same key, and each insert waited for the first one's
transaction to end (issue 18.1). Created here, they are only ever read or updated.

Revision ID: 5e0b7a3c9d21
Revises: 8b3f1c2d4e67
Create Date: 2026-12-03 10:45:00
"""

from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa
from alembic import op

revision = "5e0b7a3c9d21"
down_revision = "8b3f1c2d4e67"
branch_labels = None
depends_on = None

setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.Text))
#: Keys as in directory.listings.generation.KEY and directory.accounts.throttle._PEPPER_SETTING
#: (copied: a migration must not change when the code does).
SEEDS = {
    "data_version": lambda: uuid.uuid4().hex,
    "auth_failure_pepper": lambda: secrets.token_hex(32),
}


def upgrade() -> None:
    conn = op.get_bind()
    present = set(conn.scalars(sa.select(setting.c.key).where(setting.c.key.in_(list(SEEDS)))))
    rows = [{"key": key, "value": make()} for key, make in SEEDS.items() if key not in present]
    if rows:
        conn.execute(setting.insert(), rows)


def downgrade() -> None:
    # The rows are valid under the previous revision too (which made them on first use), and
    # deleting the pepper would orphan the stored failure keys: nothing to undo.
    pass
