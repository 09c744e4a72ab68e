"""calendar listings: when the last one began, and the earliest change announced since

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_syncs") as batch:
        batch.add_column(sa.Column("requested_from", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("listing_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_syncs") as batch:
        batch.drop_column("listing_started_at")
        batch.drop_column("requested_from")
