"""privacy4: community subscriptions and update copies numbered at random; a copy whose person
was erased keeps only its outcome

A subscription's or an update copy's id counted the rows written before it: next to each other
they told who joined (or was sent an update) right before and after whom, and so when. They are
now drawn at random by the application (storage/community.py); on PostgreSQL their sequences go.
When a person's data are erased, the message and outbox rows of the updates sent to them (the
provider's ids among them) are deleted; the copy keeps only how it fared (`status`), for the
counts. Photos the console's citizen named (`/foto PATH`) were kept as a file:// URI and never
fetched: the path (a home folder names its owner) is cleared from those still waiting.

Revision ID: 0017_privacy4
Revises: 0016_community
Create Date: 2026-12-03 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_privacy4"
down_revision = "0016_community"
branch_labels = None
depends_on = None

RANDOM_IDS = ("community_subscriptions", "community_deliveries")


def upgrade() -> None:
    with op.batch_alter_table("community_deliveries") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=True))
    op.execute(
        "UPDATE attachments SET provider_ref = '', status = 'failed' "
        "WHERE status = 'pending' AND provider_ref LIKE 'file:%'"
    )
    if op.get_bind().dialect.name == "sqlite":
        return  # an INTEGER primary key without AUTOINCREMENT: no sequence to drop
    for table in RANDOM_IDS:
        sequence = op.get_bind().scalar(sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
        op.alter_column(table, "id", existing_type=sa.Integer(), server_default=None)
        if sequence:
            op.execute(f"DROP SEQUENCE {sequence}")


def downgrade() -> None:
    with op.batch_alter_table("community_deliveries") as batch:
        batch.drop_column("status")
