"""messages.to_staff: whether an outgoing message went to staff rather than to the citizen

A case's history holds what was sent about it: the citizen's notices and answers, and the cards,
alerts and command answers sent to staff. The desk's timeline told them apart by nothing and
labelled every one "Enviado al ciudadano". Rows sent before this revision cannot be told apart
reliably (the recipient is not kept on the message), so they stay as they were read: false.

Revision ID: 0015_polish
Revises: 0014_anonids
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_polish"
down_revision = "0014_anonids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, also on SQLite: nothing to rebuild.
    op.add_column(
        "messages", sa.Column("to_staff", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("to_staff")
