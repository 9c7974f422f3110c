"""Field visits ("Visitas Técnicas Sociales"): a visit staff propose on a case, agreed with the
citizen, reminded the day before, with its outcome; and cases marked as affecting women.

Revision ID: 0018_visits
Revises: 0017_privacy4
Create Date: 2026-12-03 22:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0018_visits"
down_revision = "0017_privacy4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, also on SQLite: nothing to rebuild.
    op.add_column(
        "cases",
        sa.Column("affects_women", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("who", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("proposed_by", sa.String(80), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("citizen_answer", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("next_step", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_visits_case_id", "visits", ["case_id"])
    op.create_index("ix_visits_starts_at", "visits", ["starts_at"])
    op.create_index("ix_visits_status", "visits", ["status", "starts_at"])


def downgrade() -> None:
    op.drop_table("visits")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("affects_women")
