"""Community updates: projects people follow by keyword, their subscriptions, the updates sent
and each subscriber's copy (whose outbox row tells whether it reached them).

Revision ID: 0016_community
Revises: 0015_polish
Create Date: 2026-12-03 17:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0016_community"
down_revision = "0015_polish"
branch_labels = None
depends_on = None

TIMED_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "community_projects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("keyword", sa.String(30), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "community_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("community_projects.id"), nullable=False
        ),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("project_id", "contact_id", name="uq_subscription"),
    )
    op.create_index(
        "ix_community_subscriptions_project_id", "community_subscriptions", ["project_id"]
    )
    op.create_index(
        "ix_community_subscriptions_contact_id", "community_subscriptions", ["contact_id"]
    )
    op.create_table(
        "community_updates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("community_projects.id"), nullable=False
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_community_updates_project_id", "community_updates", ["project_id"])
    op.create_table(
        "community_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("update_id", sa.Integer(), sa.ForeignKey("community_updates.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("outbox_id", TIMED_ID, nullable=True),
    )
    op.create_index("ix_community_deliveries_update_id", "community_deliveries", ["update_id"])
    op.create_index("ix_community_deliveries_contact_id", "community_deliveries", ["contact_id"])


def downgrade() -> None:
    op.drop_table("community_deliveries")
    op.drop_table("community_updates")
    op.drop_table("community_subscriptions")
    op.drop_table("community_projects")
