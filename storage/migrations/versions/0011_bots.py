"""bots: what each scheduled bot's webhooks said (status, recording, transcript), the meeting's bot and its
waiting-room alert, the workspace's consent notice

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _status(name: str) -> sa.Enum:
    return sa.Enum(name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("bot_id", sa.String(64), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("scheduled_by", sa.String(32), nullable=True),
        sa.Column("dedup_key", sa.Text(), nullable=True),
        sa.Column("phase", _status("botphase"), nullable=True),
        sa.Column("phase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("sub_code", sa.String(128), nullable=True),
        sa.Column("recorded", sa.Boolean(), nullable=False),
        sa.Column("recording", _status("mediastate"), nullable=False),
        sa.Column("recording_sub_code", sa.String(128), nullable=True),
        sa.Column("transcript", _status("mediastate"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bots_team_dedup_key", "bots", ["team_id", "dedup_key"])
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("bot_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("admit_alert", _status("alertstatus"), nullable=False, server_default="none"))
        batch.create_index("ix_meetings_bot_id", ["bot_id"])
    with op.batch_alter_table("meetings") as batch:
        batch.alter_column("admit_alert", existing_type=_status("alertstatus"), server_default=None)
    with op.batch_alter_table("workspace_policies") as batch:
        batch.add_column(sa.Column("consent_enabled", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("consent_text", sa.Text(), nullable=True))
    with op.batch_alter_table("workspace_policies") as batch:
        batch.alter_column("consent_enabled", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("workspace_policies") as batch:
        batch.drop_column("consent_text")
        batch.drop_column("consent_enabled")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_index("ix_meetings_bot_id")
        batch.drop_column("admit_alert")
        batch.drop_column("bot_id")
    op.drop_index("ix_bots_team_dedup_key", table_name="bots")
    op.drop_table("bots")
