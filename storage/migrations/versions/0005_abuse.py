"""abuse: per-sender message limits on the contact row

Revision ID: 0005_abuse
Revises: 0004_reports
Create Date: 2026-11-21 23:20:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005_abuse"
down_revision = "0004_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("burst_started_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("burst_count", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        for name in ("burst_count", "burst_started_at"):
            batch.drop_column(name)
