"""channels: outbox claims and messaging windows, media download attempts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        for name in ("claimed_until", "window_until", "notified_at"):
            batch.add_column(
                sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=True)
            )
        batch.create_index("ix_outbox_recipient", ["channel", "address", "id"])
        batch.create_index("ix_outbox_provider_id", ["channel", "provider_message_id"])
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("attempts")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_provider_id")
        batch.drop_index("ix_outbox_recipient")
        for name in ("notified_at", "window_until", "claimed_until"):
            batch.drop_column(name)
