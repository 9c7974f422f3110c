"""messages.to_staff: whether an outgoing message went to staff rather than to the citizen

A case's history holds what was sent about it: the citizen's notices and answers, and the cards,
alerts and command answers sent to staff. The desk's timeline told them apart by nothing and
labelled every one "Enviado al ciudadano". Rows sent before this revision cannot be told apart
reliably (the recipient is not kept on the message), so they stay as they were read: false.

Revision ID: 0013_polish
Revises: 0012_desk
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_polish"
down_revision = "0012_desk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, also on SQLite: a batch would rebuild the table from the model, which
    # does not say AUTOINCREMENT, and new messages would then be numbered next to the anonymous
    # cases' negative ids (see 0007_anonymity).
    op.add_column(
        "messages", sa.Column("to_staff", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    autoincrement = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}}
    with op.batch_alter_table("messages", **(autoincrement if sqlite else {})) as batch:
        batch.drop_column("to_staff")
