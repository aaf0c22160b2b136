"""Alert feeds: `alert_feed` (each watched feed's health and HTTP validators), `alert_message`
(every message acted on, unique by key: duplicates, replays and a second watcher change nothing),
`alert_notice` (notices a feed started: its thread, region, pinned, ended).

Revision ID: df1d5642e6ff
Revises: 5e0a7c3b9d21
Create Date: 2026-12-03 09:41:12.273341
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'df1d5642e6ff'
down_revision: str | None = '5e0a7c3b9d21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert_feed',
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('seen', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('url', name=op.f('pk_alert_feed'))
    )
    op.create_table('alert_message',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=1100), nullable=False),
    sa.Column('feed_url', sa.String(length=2000), nullable=False),
    sa.Column('sent', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('msg_type', sa.String(length=20), nullable=False),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_message')),
    sa.UniqueConstraint('key', name=op.f('uq_alert_message_key'))
    )
    with op.batch_alter_table('alert_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_message_received_at'), ['received_at'], unique=False)

    op.create_table('alert_notice',
    sa.Column('notice_id', sa.Uuid(), nullable=False),
    sa.Column('feed_url', sa.String(length=2000), nullable=False),
    sa.Column('message_key', sa.String(length=1100), nullable=False),
    sa.Column('region_id', sa.Uuid(), nullable=True),
    sa.Column('alert_type', sa.String(length=40), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_alert_notice_notice_id_notice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['place.id'], name=op.f('fk_alert_notice_region_id_place')),
    sa.PrimaryKeyConstraint('notice_id', name=op.f('pk_alert_notice'))
    )
    with op.batch_alter_table('alert_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_notice_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_notice_message_key'), ['message_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_notice_region_id'), ['region_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alert_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_notice_region_id'))
        batch_op.drop_index(batch_op.f('ix_alert_notice_message_key'))
        batch_op.drop_index(batch_op.f('ix_alert_notice_ended_at'))

    op.drop_table('alert_notice')
    with op.batch_alter_table('alert_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_message_received_at'))

    op.drop_table('alert_message')
    op.drop_table('alert_feed')
