"""quiet by default: notification settings, time zones, new-meeting flag, reminders, digests (agenda, summary)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _status(name: str) -> sa.Enum:
    return sa.Enum(name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("notify", sa.String(16), nullable=False, server_default="each"))
        batch.add_column(sa.Column("agenda_minute", sa.Integer(), nullable=True, server_default="510"))
        batch.add_column(sa.Column("remind", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("profile_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("home_opened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("home_due_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("members") as batch:
        for column, kind in (("notify", sa.String(16)), ("agenda_minute", sa.Integer()), ("remind", sa.Boolean())):
            batch.alter_column(column, existing_type=kind, server_default=None)
        batch.alter_column("active", existing_type=sa.Boolean(), server_default=None)

    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("provider_created_at", sa.DateTime(timezone=True), nullable=True))
        # Meetings stored before this release were announced one by one: they count as new.
        batch.add_column(sa.Column("is_new", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("reminder", sa.String(16), nullable=False, server_default="none"))
        batch.add_column(sa.Column("reminder_channel_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("reminder_ts", sa.String(32), nullable=True))
    with op.batch_alter_table("meetings") as batch:
        batch.alter_column("is_new", existing_type=sa.Boolean(), server_default=None)
        batch.alter_column(
            "reminder", existing_type=sa.String(16), type_=_status("reminderstatus"), server_default=None
        )

    with op.batch_alter_table("workspace_policies") as batch:
        batch.add_column(sa.Column("app_id", sa.String(32), nullable=True))

    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", _status("digestkind"), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("rendered_hash", sa.String(length=64), nullable=True),
        sa.Column("may_post", sa.Boolean(), nullable=False),
        sa.Column("status", _status("reconcilestatus"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("live_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["connection_id"], ["calendar_connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "kind", "key", name="uq_digests_member_kind_key"),
    )
    with op.batch_alter_table("digests") as batch:
        batch.create_index("ix_digests_status_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.drop_index("ix_digests_status_due")
    op.drop_table("digests")
    with op.batch_alter_table("workspace_policies") as batch:
        batch.drop_column("app_id")
    with op.batch_alter_table("meetings") as batch:
        for column in ("reminder_ts", "reminder_channel_id", "reminder", "is_new", "provider_created_at"):
            batch.drop_column(column)
    with op.batch_alter_table("members") as batch:
        for column in (
            "home_due_at",
            "home_opened_at",
            "active",
            "profile_checked_at",
            "timezone",
            "remind",
            "agenda_minute",
            "notify",
        ):
            batch.drop_column(column)
