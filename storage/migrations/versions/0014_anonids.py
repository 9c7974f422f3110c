"""anonids: messages, attachments, outbox rows and case events numbered by time, not counted

When a conversation becomes an anonymous denuncia its rows are deleted and written again apart
(negative ids). Counted ids left a hole where they had stood, between other people's rows with
exact times, which dated them and pointed at the person who wrote just before. From here on the
application numbers a new row of these tables by the microsecond it is written
(storage/ids.py): no sequence in the database, so nothing to leave a hole in. Rows already
written keep their numbers (all below the new ones, so the order holds).

PostgreSQL: the ids, and the columns that refer to messages, become BIGINT; their defaults and
sequences (whose value counted every row ever written, moved ones included) are dropped. The
type change rewrites the four tables.
SQLite: an INTEGER primary key is 64 bits already. AUTOINCREMENT (from 0007) goes: with every
id given by the application it would only keep, in sqlite_sequence, the largest id ever given,
which is the exact time of the last row written even after that row moved to an anonymous case.
The three tables that had it are rebuilt.
A person's messages are indexed with their ids (`ix_messages_contact_id`): a new message is
numbered after the last of theirs, whatever the clock of the process that wrote it.

Revision ID: 0014_anonids
Revises: 0013_speed2
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_anonids"
down_revision = "0013_speed2"
branch_labels = None
depends_on = None

TIMED = ("messages", "attachments", "outbox", "case_events")
REFERENCES = (("attachments", "message_id", False), ("outbox", "message_id", True))
COUNTED_ON_SQLITE = ("messages", "attachments", "case_events")  # AUTOINCREMENT since 0007


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in COUNTED_ON_SQLITE:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
            ) as batch:
                if table == "messages":
                    batch.drop_index("ix_messages_contact_id")
                    batch.create_index("ix_messages_contact_id", ["contact_id", "id"])
        names = ", ".join(f"'{table}'" for table in TIMED)
        op.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")
        return
    for table in TIMED:
        sequence = op.get_bind().scalar(sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
        op.alter_column(
            table, "id", type_=sa.BigInteger(), existing_type=sa.Integer(), server_default=None
        )
        if sequence:
            op.execute(f"DROP SEQUENCE {sequence}")
    op.drop_index("ix_messages_contact_id", "messages")
    op.create_index("ix_messages_contact_id", "messages", ["contact_id", "id"])
    for table, column, nullable in REFERENCES:
        op.alter_column(
            table,
            column,
            type_=sa.BigInteger(),
            existing_type=sa.Integer(),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    # Ids given by time do not fit the counted INTEGER ids of before: the way back is a backup
    # taken before the upgrade.
    raise NotImplementedError("0014_anonids cannot be undone: restore a backup taken before it")
