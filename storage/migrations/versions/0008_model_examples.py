"""model: labelled examples, the labels staff and citizens confirmed, for the classifier to learn

Revision ID: 0008_model
Revises: 0007_anonymity
Create Date: 2026-12-03 12:30:00
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008_model"
down_revision = "0007_anonymity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labelled_examples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_labelled_examples_case_id", "labelled_examples", ["case_id"])
    op.create_index("ix_labelled_examples_contact_id", "labelled_examples", ["contact_id"])
    # The reclassifications recorded so far become examples (the latest per case, as the
    # model learned from them until now); anonymous and erased cases are left out.
    # Their notes are JSON written by handlers.casework.reclassify; they are read in Python,
    # the same way on both databases.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT c.id, c.contact_id, c.description, e.note FROM case_events e"
            " JOIN cases c ON c.id = e.case_id WHERE e.kind = 'reclassified'"
            " AND NOT c.anonymous AND e.note IS NOT NULL ORDER BY e.id"
        )
    ).all()
    latest = {row[0]: row for row in rows}
    table = sa.table(
        "labelled_examples",
        sa.column("case_id"),
        sa.column("contact_id"),
        sa.column("source"),
        sa.column("text"),
        sa.column("type"),
        sa.column("topic"),
        sa.column("urgency"),
        sa.column("created_at", storage.types.UTCDateTime(timezone=True)),
    )
    values = []
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for case_id, contact_id, description, note in latest.values():
        try:
            labels = json.loads(note)
            values.append(
                {
                    "case_id": case_id,
                    "contact_id": contact_id,
                    "source": "personal",
                    "text": description,
                    "type": labels["type"],
                    "topic": labels["topic"],
                    "urgency": labels["urgency"],
                    "created_at": today,
                }
            )
        except (ValueError, KeyError, TypeError):
            continue
    if values:
        op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_index("ix_labelled_examples_contact_id", table_name="labelled_examples")
    op.drop_index("ix_labelled_examples_case_id", table_name="labelled_examples")
    op.drop_table("labelled_examples")
