"""lifecycle status enums for meetings, webhook deliveries and calendar syncs

Replaces the flag clusters (meetings: needs_reconcile, posting_until, failures, retry_after, rendered_state;
deliveries: processed_at and an "abandoned: " prefix in last_error; syncs: pending) with one status column per
table, a `due_at` for when the row is worked on next, and (meetings) a version for compare-and-set.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _status(name: str) -> sa.Enum:
    return sa.Enum(name=name, native_enum=False, create_constraint=False, length=16)


def upgrade() -> None:
    # ---- webhook deliveries -----------------------------------------------------------------------------------
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE webhook_deliveries SET status = CASE"
        " WHEN processed_at IS NULL THEN 'pending'"
        " WHEN last_error LIKE 'abandoned: %' THEN 'abandoned'"
        " ELSE 'done' END,"
        " finished_at = processed_at,"
        " due_at = received_at"
    )
    op.execute("UPDATE webhook_deliveries SET last_error = substr(last_error, 12) WHERE last_error LIKE 'abandoned: %'")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index("ix_webhook_deliveries_pending")
        batch.drop_column("processed_at")
        batch.alter_column("status", existing_type=sa.String(16), type_=_status("deliverystatus"), server_default=None)
        batch.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_index("ix_webhook_deliveries_status_due", ["status", "due_at"], unique=False)

    # ---- calendar syncs ---------------------------------------------------------------------------------------
    with op.batch_alter_table("calendar_syncs") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="due"))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE calendar_syncs SET status = CASE WHEN pending THEN 'due' ELSE 'idle' END")
    with op.batch_alter_table("calendar_syncs") as batch:
        batch.drop_index("ix_calendar_syncs_pending")
        batch.drop_column("pending")
        batch.alter_column("status", existing_type=sa.String(16), type_=_status("syncstatus"), server_default=None)
        batch.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
        batch.create_index("ix_calendar_syncs_status_due", ["status", "due_at"], unique=False)

    # ---- meetings ---------------------------------------------------------------------------------------------
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE meetings SET"
        " status = CASE WHEN failures > 0 THEN 'retrying' WHEN needs_reconcile THEN 'pending' ELSE 'settled' END,"
        " attempts = failures,"
        " due_at = CASE"
        "  WHEN failures > 0 THEN retry_after"
        "  WHEN needs_reconcile THEN updated_at"
        "  WHEN message_ts IS NOT NULL AND rendered_state IN ('ask', 'covered', 'scheduled', 'skipped') THEN end_time"
        "  ELSE NULL END"
    )
    with op.batch_alter_table("meetings") as batch:
        for column in ("rendered_state", "needs_reconcile", "posting_until", "failures", "retry_after"):
            batch.drop_column(column)
        batch.alter_column("status", existing_type=sa.String(16), type_=_status("reconcilestatus"), server_default=None)
        batch.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
        batch.alter_column("version", existing_type=sa.Integer(), server_default=None)
        batch.create_index("ix_meetings_status_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_index("ix_meetings_status_due")
        batch.add_column(sa.Column("rendered_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("needs_reconcile", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("posting_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE meetings SET needs_reconcile = (status <> 'settled'), failures = attempts,"
        " retry_after = CASE WHEN status = 'retrying' THEN due_at ELSE NULL END"
    )
    with op.batch_alter_table("meetings") as batch:
        for column in ("status", "due_at", "attempts", "version", "claimed_by", "claimed_until"):
            batch.drop_column(column)
        batch.alter_column("needs_reconcile", existing_type=sa.Boolean(), server_default=None)
        batch.alter_column("failures", existing_type=sa.Integer(), server_default=None)

    with op.batch_alter_table("calendar_syncs") as batch:
        batch.drop_index("ix_calendar_syncs_status_due")
        batch.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE calendar_syncs SET pending = (status = 'due')")
    with op.batch_alter_table("calendar_syncs") as batch:
        batch.drop_column("status")
        batch.drop_column("due_at")
        batch.drop_column("attempts")
        batch.alter_column("pending", existing_type=sa.Boolean(), server_default=None)
        batch.create_index("ix_calendar_syncs_pending", ["pending"], unique=False)

    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index("ix_webhook_deliveries_status_due")
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE webhook_deliveries SET processed_at = CASE WHEN status = 'pending' THEN NULL"
        " ELSE COALESCE(finished_at, received_at) END"
    )
    op.execute(
        "UPDATE webhook_deliveries SET last_error = substr('abandoned: ' || COALESCE(last_error, ''), 1, 200)"
        " WHERE status = 'abandoned'"
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("status")
        batch.drop_column("due_at")
        batch.drop_column("finished_at")
        batch.create_index("ix_webhook_deliveries_pending", ["processed_at", "received_at"], unique=False)
