"""recording rules: member rules and keywords, series choices, workspace policy, who is in each meeting

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("rule", sa.String(16), nullable=True))
        batch.add_column(sa.Column("rule_accepted_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("excluded_keywords", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("members") as batch:
        batch.alter_column("rule_accepted_only", existing_type=sa.Boolean(), server_default=None)
        batch.alter_column("excluded_keywords", existing_type=sa.JSON(), server_default=None)

    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("organizer_is_self", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("attendee_domains", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("meetings") as batch:
        batch.alter_column("organizer_is_self", existing_type=sa.Boolean(), server_default=None)
        batch.alter_column("attendee_domains", existing_type=sa.JSON(), server_default=None)

    op.create_table(
        "series_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.String(length=255), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "series_id", name="uq_series_choices_member_series"),
    )
    op.create_table(
        "workspace_policies",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("default_rule", sa.String(length=16), nullable=True),
        sa.Column("default_accepted_only", sa.Boolean(), nullable=False),
        sa.Column("excluded_keywords", sa.JSON(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("enforce_external", sa.Boolean(), nullable=False),
        sa.Column("bot_name", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("workspace_policies")
    op.drop_table("series_choices")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("attendee_domains")
        batch.drop_column("organizer_is_self")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("excluded_keywords")
        batch.drop_column("rule_accepted_only")
        batch.drop_column("rule")
