"""staff lifecycle: case priority, referral, resolution, pause, extension, survey; lookup limits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("folio_misses", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        for name in ("folio_misses_since", "folio_blocked_until"):
            batch.add_column(
                sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=True)
            )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("prioritised", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("referred_to", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("paused_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("extension_days", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("survey_resolved", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("survey_rating", sa.Integer(), nullable=True))
    op.create_table(
        "job_runs",
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("run_date", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "run_date"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("cases") as batch:
        for name in (
            "survey_rating",
            "survey_resolved",
            "extension_days",
            "paused_at",
            "resolution",
            "referred_to",
            "prioritised",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("contacts") as batch:
        for name in ("folio_blocked_until", "folio_misses_since", "folio_misses"):
            batch.drop_column(name)
