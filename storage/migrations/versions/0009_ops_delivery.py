"""ops: dispatchers' heartbeats and the claims they own, shared pacing, early delivery reports,
Telegram chat migrations

Revision ID: 0009_ops
Revises: 0008_model
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009_ops"
down_revision = "0008_model"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=36), nullable=True))
    op.create_table(
        "dispatchers",
        sa.Column("id", sa.String(length=36), primary_key=True),
        _utc("started_at"),
        _utc("heartbeat_at"),
    )
    op.create_table(
        "pacing",
        sa.Column("channel", sa.String(length=16), primary_key=True),
        _utc("next_slot_at"),
    )
    op.create_table(
        "early_delivery_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        _utc("received_at"),
    )
    op.create_index(
        "ix_early_reports_provider", "early_delivery_reports", ["channel", "provider_id"]
    )
    op.create_table(
        "chat_migrations",
        sa.Column("channel", sa.String(length=16), primary_key=True),
        sa.Column("old_address", sa.String(length=64), primary_key=True),
        sa.Column("new_address", sa.String(length=64), nullable=False),
        _utc("migrated_at"),
    )


def downgrade() -> None:
    op.drop_table("chat_migrations")
    op.drop_index("ix_early_reports_provider", table_name="early_delivery_reports")
    op.drop_table("early_delivery_reports")
    op.drop_table("pacing")
    op.drop_table("dispatchers")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
