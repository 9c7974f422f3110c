"""anonymity: no sender hash on cases; no provider ids left on anonymous conversations

`contacts.burst_started_at` and `burst_count` (the per-minute limit, now counted in memory) kept
the time of a person's last messages and, after an anonymous report, a count that no longer
matched the messages linked to them. `cases.reporter_hash` was an HMAC of the sender under
`privacy.hash_secret`: whoever holds the configuration can hash every contact and find the
sender, so it is dropped. What earlier
versions left of anonymous conversations (provider ids on their messages, outbox rows already
sent, media URLs of downloaded files) is cleared the same way the service now clears it.

Revision ID: 0007_anonymity
Revises: 0006_reports_speed
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_anonymity"
down_revision = "0006_reports_speed"
branch_labels = None
depends_on = None


# Rows about an anonymous case are numbered with negative ids drawn at random. SQLite numbers
# a new row one past the largest id in the table, which is negative while no other row exists:
# with AUTOINCREMENT it is one past the largest id ever given instead, never next to theirs.
NUMBERED_APART = ("cases", "case_events", "messages", "attachments")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    autoincrement = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}}
    with op.batch_alter_table("cases", **(autoincrement if sqlite else {})) as batch:
        batch.drop_index("ix_cases_reporter_hash")
        batch.drop_column("reporter_hash")
    for table in NUMBERED_APART[1:] if sqlite else ():
        with op.batch_alter_table(table, **autoincrement):
            pass
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("burst_started_at")
        batch.drop_column("burst_count")
    anonymous = "SELECT id FROM cases WHERE anonymous"
    op.execute(
        f"UPDATE messages SET provider_id = NULL, contact_id = NULL WHERE case_id IN ({anonymous})"
    )
    op.execute("DELETE FROM outbox WHERE confidential AND status = 'sent'")
    op.execute("UPDATE attachments SET provider_ref = '' WHERE status <> 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("burst_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("burst_started_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reporter_hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_cases_reporter_hash", ["reporter_hash"])
