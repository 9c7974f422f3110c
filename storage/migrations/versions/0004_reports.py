"""reports: when a case was first attended, and indexes for the period report and the summary

Revision ID: 0004_reports
Revises: 0003
Create Date: 2026-11-21 23:20:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004_reports"
down_revision = "0003"
branch_labels = None
depends_on = None

ATTENDED = ("resuelto", "cerrado", "remitido")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("attended_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Cases attended before this column existed: the first time their history reached one of
    # the attended statuses.
    statuses = ", ".join(f"'{status}'" for status in ATTENDED)
    op.execute(
        "UPDATE cases SET attended_at = (SELECT min(e.at) FROM case_events e "
        "WHERE e.case_id = cases.id AND e.kind = 'status_changed' "
        f"AND e.to_status IN ({statuses}))"
    )
    op.create_index("ix_cases_created_channel_type", "cases", ["created_at", "channel", "type"])
    # Covers the report's attended figures (counts, deadlines, survey, resolution times).
    op.create_index(
        "ix_cases_attended",
        "cases",
        [
            "attended_at",
            "channel",
            "type",
            "due_at",
            "created_at",
            "survey_rating",
            "survey_resolved",
        ],
    )
    op.create_index("ix_cases_contact_created", "cases", ["contact_id", "created_at"])
    # Covers the weekly summary's open and overdue counts, per agent.
    op.create_index("ix_cases_open_due", "cases", ["status", "due_at", "channel", "assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_open_due", "cases")
    op.drop_index("ix_cases_contact_created", "cases")
    op.drop_index("ix_cases_attended", "cases")
    op.drop_index("ix_cases_created_channel_type", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("attended_at")
