"""webhook deliveries, calendar sync cursors, meetings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 01:40:53.983232
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_syncs",
        sa.Column("recall_calendar_id", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("recall_calendar_id"),
    )
    with op.batch_alter_table("calendar_syncs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_syncs_pending"), ["pending"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_pending", ["processed_at", "received_at"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("recall_event_id", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("recall_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("meeting_url", sa.Text(), nullable=True),
        sa.Column("meeting_platform", sa.String(length=64), nullable=True),
        sa.Column("organizer", sa.Text(), nullable=True),
        sa.Column("series_id", sa.String(length=255), nullable=True),
        sa.Column("self_response", sa.String(length=32), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=True),
        sa.Column("current_key", sa.Text(), nullable=True),
        sa.Column("scheduled_key", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("rendered_hash", sa.String(length=64), nullable=True),
        sa.Column("rendered_state", sa.String(length=16), nullable=True),
        sa.Column("needs_reconcile", sa.Boolean(), nullable=False),
        sa.Column("posting_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["calendar_connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("recall_event_id"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_connection_start", ["connection_id", "start_time"], unique=False)
        batch_op.create_index("ix_meetings_team_current_key", ["team_id", "current_key"], unique=False)
        batch_op.create_index("ix_meetings_team_scheduled_key", ["team_id", "scheduled_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_team_scheduled_key")
        batch_op.drop_index("ix_meetings_team_current_key")
        batch_op.drop_index("ix_meetings_connection_start")

    op.drop_table("meetings")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_pending")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("calendar_syncs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_syncs_pending"))

    op.drop_table("calendar_syncs")
