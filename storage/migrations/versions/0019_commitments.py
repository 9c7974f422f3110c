"""Commitments made to citizens on a case (or a field visit): what, who answers for it, by when,
and whether it was met on time, moved or cancelled.

Revision ID: 0019_commitments
Revises: 0018_visits
Create Date: 2026-12-03 22:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0019_commitments"
down_revision = "0018_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        # A commitment made on a field visit (the visit's case is the commitment's).
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visits.id"), nullable=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("responsible_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("responsible_name", sa.String(120), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("original_due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("met_at", UTCDateTime(), nullable=True),
        sa.Column("met_on_time", sa.Boolean(), nullable=True),
        sa.Column("moved_count", sa.Integer(), nullable=False),
        sa.Column("moved_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("overdue_notified_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_commitments_case_id", "commitments", ["case_id"])
    op.create_index("ix_commitments_responsible_id", "commitments", ["responsible_id"])
    op.create_index("ix_commitments_status_due", "commitments", ["status", "due_date"])


def downgrade() -> None:
    op.drop_table("commitments")
