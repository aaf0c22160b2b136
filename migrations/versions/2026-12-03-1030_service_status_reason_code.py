"""Closure reasons as codes: `service.status_reason_code` (alert | power | staff | supplies |
repairs | damage), shown in each reader's language.

The volunteer app used to store a one-tap reason as its English label in `status_reason`, so a
Ukrainian listing read "Power cut" in every language. Existing reasons that are exactly such a
label become the code (the text is cleared); reasons in someone's own words stay text.
Downgrade writes the English label back as text where only a code was stored.

Revision ID: 8b3f1c2d4e67
Revises: 8e4a2f6b1c37
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8b3f1c2d4e67"
down_revision = "8e4a2f6b1c37"
branch_labels = None
depends_on = None

CODES = ("alert", "power", "staff", "supplies", "repairs", "damage")
#: The English labels the volunteer app stored (directory/listings/reasons.py, frozen here).
ENGLISH = {
    "Air-raid alert": "alert", "Power cut": "power", "No staff on duty": "staff",
    "Out of supplies": "supplies", "Repairs": "repairs", "Damaged by shelling": "damage",
}

service = sa.table(
    "service",
    sa.column("id", sa.Uuid()),
    sa.column("status_reason", sa.Text()),
    sa.column("status_reason_code", sa.String(32)),
)
translation = sa.table(
    "translation",
    sa.column("entity_type", sa.String(40)),
    sa.column("entity_id", sa.Uuid()),
    sa.column("field", sa.String(40)),
    sa.column("value", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_reason_code",
                sa.Enum(*CODES, name="closure_reason", native_enum=False, create_constraint=True,
                        length=32),
                nullable=True,
            )
        )
    bind = op.get_bind()
    for text, code in ENGLISH.items():
        ids = [row[0] for row in bind.execute(
            sa.select(service.c.id).where(sa.func.trim(service.c.status_reason) == text))]
        if not ids:
            continue
        bind.execute(service.update().where(service.c.id.in_(ids))
                     .values(status_reason_code=code, status_reason=None))
        # A copy of the same English label as a "translation" is not a translation either.
        bind.execute(translation.delete().where(
            translation.c.entity_type == "service", translation.c.entity_id.in_(ids),
            translation.c.field == "status_reason", translation.c.value.in_(list(ENGLISH))))


def downgrade() -> None:
    bind = op.get_bind()
    for text, code in ENGLISH.items():
        bind.execute(service.update().where(service.c.status_reason_code == code,
                                            service.c.status_reason.is_(None))
                     .values(status_reason=text))
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_service_closure_reason"), type_="check")
        batch_op.drop_column("status_reason_code")
